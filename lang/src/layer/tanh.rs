//! `tanh`: the hyperbolic tangent, element-wise.

use super::{Cx, LayerDef};
use crate::error::Result;
use crate::shape::Shape;
use crate::signature::OpSpec;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tanh;

impl LayerDef for Tanh {
    const SPECS: &'static [OpSpec] = &[OpSpec {
        name: "tanh",
        params: &[],
        positional: 0,
        doc: "tanh(x)",
    }];
    const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[(&[2, 3], "tanh")];

    fn check(cx: &Cx) -> Result<(Tanh, Shape, usize)> {
        Ok((Tanh, cx.input.clone(), 0))
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tanh")
    }
}
