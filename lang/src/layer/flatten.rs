//! `flatten`: [C, H, W] → [C·H·W]. The values keep their order, so the runtime's row
//! layout already is the flattening.

use super::{Cx, LayerDef};
use crate::error::Result;
use crate::shape::Shape;
use crate::signature::OpSpec;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flatten;

impl LayerDef for Flatten {
    const SPECS: &'static [OpSpec] = &[OpSpec {
        name: "flatten",
        params: &[],
        positional: 0,
        doc: "[C, H, W] → [C·H·W]",
    }];
    const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[(&[2, 3, 2], "flatten")];

    fn check(cx: &Cx) -> Result<(Flatten, Shape, usize)> {
        Ok((Flatten, Shape(vec![cx.input.numel()]), 0))
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flatten")
    }
}
