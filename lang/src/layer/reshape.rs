//! `reshape(shape)`: the same values, a new per-sample shape of 1 to 3 dimensions.

use super::{Cx, LayerDef};
use crate::error::{ErrorKind, Result};
use crate::shape::Shape;
use crate::signature::{p, ArgTy::*, Dflt as D, OpSpec};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reshape(pub Shape);

impl LayerDef for Reshape {
    const SPECS: &'static [OpSpec] = &[OpSpec {
        name: "reshape",
        params: &[p("shape", IntList, D::Required, "the new per-sample shape")],
        positional: 1,
        doc: "same values, new shape",
    }];
    const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[(&[12], "reshape([3, 2, 2])")];

    fn check(cx: &Cx) -> Result<(Reshape, Shape, usize)> {
        let to = cx.b.int_list("shape");
        if to.is_empty() || to.len() > 3 || to.iter().any(|d| *d <= 0) {
            return Err(ErrorKind::InvalidValue {
                span: cx.b.span("shape"),
                what: "reshape target".into(),
                value: format!("{to:?}"),
                reason: "1 to 3 positive dimensions".into(),
            }
            .into());
        }
        let n = to.iter().try_fold(1i64, |a, d| a.checked_mul(*d));
        if n != Some(cx.input.numel() as i64) {
            return Err(ErrorKind::ReshapeMismatch {
                span: cx.b.span("shape"),
                from: cx.input.clone(),
                to,
            }
            .into());
        }
        let s = Shape(to.iter().map(|d| *d as usize).collect());
        Ok((Reshape(s.clone()), s, 0))
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reshape({})", self.0)
    }
}
