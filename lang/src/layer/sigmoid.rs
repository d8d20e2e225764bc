//! `sigmoid`: the logistic function 1 / (1 + e^-x), element-wise.

use super::{Cx, LayerDef};
use crate::error::Result;
use crate::shape::Shape;
use crate::signature::OpSpec;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sigmoid;

impl LayerDef for Sigmoid {
    const SPECS: &'static [OpSpec] = &[OpSpec {
        name: "sigmoid",
        params: &[],
        positional: 0,
        doc: "1 / (1 + e^-x)",
    }];
    const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[(&[2, 3], "sigmoid")];

    fn check(cx: &Cx) -> Result<(Sigmoid, Shape, usize)> {
        Ok((Sigmoid, cx.input.clone(), 0))
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sigmoid")
    }
}
