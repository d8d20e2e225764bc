//! `relu`: max(0, x), element-wise.

use super::{Cx, LayerDef};
use crate::error::Result;
use crate::shape::Shape;
use crate::signature::OpSpec;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relu;

impl LayerDef for Relu {
    const SPECS: &'static [OpSpec] = &[OpSpec {
        name: "relu",
        params: &[],
        positional: 0,
        doc: "max(x, 0)",
    }];
    const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[(&[2, 3], "relu")];

    fn check(cx: &Cx) -> Result<(Relu, Shape, usize)> {
        Ok((Relu, cx.input.clone(), 0))
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "relu")
    }
}
