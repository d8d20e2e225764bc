//! `conv_transpose2d(out, kernel)` over [C, H, W] and `conv_transpose1d(out, kernel)`
//! over [C, N]: the adjoint of a convolution, which upsamples by its stride. The shape
//! rule is the convolution's ([`super::conv::checked`]).

use super::conv::{checked, line, Conv};
use super::{Cx, LayerDef};
use crate::error::Result;
use crate::shape::Shape;
use crate::signature::{p, ArgTy::*, Dflt as D, OpSpec, ParamSpec};
use std::fmt;

/// A transposed convolution: the convolution's hyper-parameters, with
/// `output_padding`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvTranspose(pub Conv);

const CONVT2D: &[ParamSpec] = &[
    p("out", Int, D::Required, "output channels"),
    p(
        "kernel",
        IntOrPair,
        D::Required,
        "kernel size, or [height, width]",
    ),
    p(
        "stride",
        IntOrPair,
        D::Int(1),
        "stride (the upsampling factor)",
    ),
    p(
        "padding",
        IntOrPair,
        D::Int(0),
        "removed from each side of the output",
    ),
    p(
        "output_padding",
        IntOrPair,
        D::Int(0),
        "added to one side of the output; < stride or dilation",
    ),
    p("dilation", IntOrPair, D::Int(1), "spacing of kernel taps"),
    p("bias", Bool, D::Bool(true), "add a learned bias"),
];
const CONVT1D: &[ParamSpec] = &[
    p("out", Int, D::Required, "output channels"),
    p("kernel", Int, D::Required, "kernel size"),
    p("stride", Int, D::Int(1), "stride"),
    p(
        "padding",
        Int,
        D::Int(0),
        "removed from each side of the output",
    ),
    p(
        "output_padding",
        Int,
        D::Int(0),
        "added to one side of the output",
    ),
    p("dilation", Int, D::Int(1), "spacing of kernel taps"),
    p("bias", Bool, D::Bool(true), "add a learned bias"),
];

impl LayerDef for ConvTranspose {
    const SPECS: &'static [OpSpec] = &[
        OpSpec {
            name: "conv_transpose1d",
            params: CONVT1D,
            positional: 2,
            doc: "1-D transposed convolution over [C, N]",
        },
        OpSpec {
            name: "conv_transpose2d",
            params: CONVT2D,
            positional: 2,
            doc: "2-D transposed convolution over [C, H, W]",
        },
    ];
    const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[
        (
            &[3, 4, 3],
            "conv_transpose2d(2, kernel = [3, 2], stride = 2, padding = 1, output_padding = 1, dilation = [1, 2])",
        ),
        (&[3, 5], "conv_transpose1d(2, 3, stride = 2, output_padding = 1)"),
    ];

    fn check(cx: &Cx) -> Result<(ConvTranspose, Shape, usize)> {
        checked(cx, true).map(|(c, s, p)| (ConvTranspose(c), s, p))
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        line(f, "conv_transpose", &self.0, true)
    }

    fn out(&self) -> Option<usize> {
        Some(self.0.out_channels)
    }
}
