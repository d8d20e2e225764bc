//! `linear(out)`: a dense layer over a vector, `y = x W + b` with W of [in, out].

use super::{Cx, LayerDef};
use crate::error::Result;
use crate::shape::Shape;
use crate::signature::{p, ArgTy::*, Dflt as D, OpSpec};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linear {
    pub in_features: usize,
    pub out_features: usize,
    pub bias: bool,
}

impl LayerDef for Linear {
    const SPECS: &'static [OpSpec] = &[OpSpec {
        name: "linear",
        params: &[
            p("out", Int, D::Required, "output features"),
            p("bias", Bool, D::Bool(true), "add a learned bias"),
        ],
        positional: 1,
        doc: "dense layer over a vector",
    }];
    const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[(&[5], "linear(3)")];

    fn check(cx: &Cx) -> Result<(Linear, Shape, usize)> {
        if cx.input.rank() != 1 {
            return Err(cx.needs("a vector input", "add `flatten` before it"));
        }
        cx.positive("out", 1)?;
        let (i, o) = (cx.input.0[0], cx.b.int("out") as usize);
        let bias = cx.b.bool("bias");
        let params = cx.checked_params(&[i, o])? + if bias { o } else { 0 };
        let l = Linear {
            in_features: i,
            out_features: o,
            bias,
        };
        Ok((l, Shape(vec![o]), params))
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "linear(out={}", self.out_features)?;
        if !self.bias {
            write!(f, ", bias=false")?;
        }
        write!(f, ")")
    }

    fn out(&self) -> Option<usize> {
        Some(self.out_features)
    }
}
