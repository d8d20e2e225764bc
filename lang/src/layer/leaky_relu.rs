//! `leaky_relu(slope)`: x where x > 0, slope·x elsewhere, element-wise.

use super::{Cx, LayerDef};
use crate::error::Result;
use crate::shape::Shape;
use crate::signature::{p, ArgTy::*, Dflt as D, OpSpec};
use crate::value::fmt_float;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct LeakyRelu(pub f64);

impl LayerDef for LeakyRelu {
    const SPECS: &'static [OpSpec] = &[OpSpec {
        name: "leaky_relu",
        params: &[p("slope", Float, D::Float(0.01), "slope for x < 0")],
        positional: 1,
        doc: "x if x > 0 else slope·x",
    }];
    const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[(&[2, 3], "leaky_relu(0.2)")];

    fn check(cx: &Cx) -> Result<(LeakyRelu, Shape, usize)> {
        Ok((LeakyRelu(cx.b.float("slope")), cx.input.clone(), 0))
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "leaky_relu(slope={})", fmt_float(self.0))
    }
}
