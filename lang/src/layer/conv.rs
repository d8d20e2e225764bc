//! `conv2d(out, kernel)` over [C, H, W] and `conv1d(out, kernel)` over [C, N]: one
//! definition, since a 1-D convolution is a 2-D one of height 1. The shape rule here
//! serves the transposed convolutions too ([`super::conv_transpose`]).

use super::{Cx, LayerDef};
use crate::checks::{too_large, too_many};
use crate::error::{ErrorKind, Result};
use crate::shape::Shape;
use crate::signature::{p, ArgTy::*, Dflt as D, OpSpec, ParamSpec};
use std::fmt;

/// Convolution hyper-parameters; vectors have one entry per spatial axis (1 or 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub padding: Vec<usize>,
    pub output_padding: Vec<usize>,
    pub dilation: Vec<usize>,
    pub bias: bool,
}

const CONV2D: &[ParamSpec] = &[
    p("out", Int, D::Required, "output channels"),
    p(
        "kernel",
        IntOrPair,
        D::Required,
        "kernel size, or [height, width]",
    ),
    p("stride", IntOrPair, D::Int(1), "stride"),
    p("padding", IntOrPair, D::Int(0), "zero padding on each side"),
    p("dilation", IntOrPair, D::Int(1), "spacing of kernel taps"),
    p("bias", Bool, D::Bool(true), "add a learned bias"),
];
const CONV1D: &[ParamSpec] = &[
    p("out", Int, D::Required, "output channels"),
    p("kernel", Int, D::Required, "kernel size"),
    p("stride", Int, D::Int(1), "stride"),
    p("padding", Int, D::Int(0), "zero padding on each side"),
    p("dilation", Int, D::Int(1), "spacing of kernel taps"),
    p("bias", Bool, D::Bool(true), "add a learned bias"),
];

impl LayerDef for Conv {
    const SPECS: &'static [OpSpec] = &[
        OpSpec {
            name: "conv1d",
            params: CONV1D,
            positional: 2,
            doc: "1-D convolution over [C, N] (curves)",
        },
        OpSpec {
            name: "conv2d",
            params: CONV2D,
            positional: 2,
            doc: "2-D convolution over [C, H, W]",
        },
    ];
    const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[
        (
            &[2, 7, 6],
            "conv2d(3, kernel = [3, 2], stride = 2, padding = 1, dilation = [1, 2])",
        ),
        (&[2, 9], "conv1d(3, 3, stride = 2, padding = 1)"),
    ];

    fn check(cx: &Cx) -> Result<(Conv, Shape, usize)> {
        checked(cx, false)
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        line(f, "conv", self, false)
    }

    /// Each sample's column matrix, kept for the backward: C_in·Πkernel × Πoutput.
    fn saved(&self, _: &Shape, output: &Shape) -> f64 {
        let taps: usize = self.kernel.iter().product();
        let spatial: usize = output.0.iter().skip(1).product();
        (self.in_channels * taps) as f64 * spatial as f64
    }

    fn out(&self) -> Option<usize> {
        Some(self.out_channels)
    }
}

/// The number of spatial axes a convolution named `op` has.
fn axes(op: &str) -> usize {
    if op.ends_with("2d") {
        2
    } else {
        1
    }
}

fn spatial(cx: &Cx, name: &str, axes: usize) -> Vec<usize> {
    if axes == 1 {
        vec![cx.b.int(name).max(0) as usize]
    } else {
        cx.b.pair(name)
            .iter()
            .map(|v| (*v).max(0) as usize)
            .collect()
    }
}

/// The shape rule of a convolution (`transpose`: of a transposed one): the layer, its
/// output shape and its parameter count.
pub(crate) fn checked(cx: &Cx, transpose: bool) -> Result<(Conv, Shape, usize)> {
    let (b, input, span) = (cx.b, cx.input, cx.b.span);
    let op = b.op.as_str();
    let axes = axes(op);
    if input.rank() != axes + 1 {
        let (expected, help) = if axes == 2 {
            (
                "a [C, H, W] input",
                if input.rank() == 1 {
                    "add `reshape([C, H, W])` before it"
                } else {
                    "use conv1d for [C, N] inputs"
                },
            )
        } else {
            (
                "a [C, N] input",
                if input.rank() == 1 {
                    "add `reshape([C, N])` before it"
                } else {
                    "use conv2d for [C, H, W] inputs"
                },
            )
        };
        return Err(cx.needs(expected, help));
    }
    for (name, min) in [
        ("out", 1),
        ("kernel", 1),
        ("stride", 1),
        ("padding", 0),
        ("dilation", 1),
    ] {
        cx.positive(name, min)?;
    }
    if transpose {
        cx.positive("output_padding", 0)?;
    }
    let c = Conv {
        in_channels: input.0[0],
        out_channels: b.int("out") as usize,
        kernel: spatial(cx, "kernel", axes),
        stride: spatial(cx, "stride", axes),
        padding: spatial(cx, "padding", axes),
        output_padding: if transpose {
            spatial(cx, "output_padding", axes)
        } else {
            vec![0; axes]
        },
        dilation: spatial(cx, "dilation", axes),
        bias: b.bool("bias"),
    };
    let mut out = vec![c.out_channels];
    for a in 0..axes {
        let (n, k, s, p, d) = (
            input.0[a + 1] as i64,
            c.kernel[a] as i64,
            c.stride[a] as i64,
            c.padding[a] as i64,
            c.dilation[a] as i64,
        );
        let extent = d * (k - 1) + 1;
        let size = if transpose {
            let op_ = c.output_padding[a] as i64;
            if op_ >= s.max(d) {
                return Err(ErrorKind::OutputPadding {
                    span: b.span("output_padding"),
                    output_padding: op_,
                    stride: s,
                    dilation: d,
                }
                .into());
            }
            (n - 1) * s - 2 * p + extent + op_
        } else {
            if n + 2 * p < extent {
                return Err(ErrorKind::KernelTooLarge {
                    span,
                    layer: op.into(),
                    input: input.clone(),
                    axis: a + 1,
                    padded: n + 2 * p,
                    extent,
                }
                .into());
            }
            (n + 2 * p - extent) / s + 1
        };
        if size <= 0 {
            return Err(ErrorKind::InvalidValue {
                span,
                what: format!("`{op}` on {input}"),
                value: format!("output size {size} along axis {}", a + 1),
                reason: "the padding removes the whole output; use less padding".into(),
            }
            .into());
        }
        out.push(size as usize);
    }
    let shape = Shape(out);
    if too_many(&shape.0) {
        return Err(too_large(span, "the layer's output"));
    }
    let mut parts = vec![c.in_channels, c.out_channels];
    parts.extend(&c.kernel);
    let params = cx.checked_params(&parts)? + if c.bias { c.out_channels } else { 0 };
    Ok((c, shape, params))
}

/// `[a, b]`, or `a` for one axis.
fn list(v: &[usize]) -> String {
    if v.len() == 1 {
        return v[0].to_string();
    }
    format!(
        "[{}]",
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The IR line of a convolution named `name` (`conv`, `conv_transpose`) + `1d`/`2d`.
pub(crate) fn line(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    c: &Conv,
    transpose: bool,
) -> fmt::Result {
    let d = if c.kernel.len() == 1 { "1d" } else { "2d" };
    write!(
        f,
        "{name}{d}(out={}, kernel={}, stride={}, padding={}",
        c.out_channels,
        list(&c.kernel),
        list(&c.stride),
        list(&c.padding)
    )?;
    if transpose {
        write!(f, ", output_padding={}", list(&c.output_padding))?;
    }
    if c.dilation.iter().any(|&x| x != 1) {
        write!(f, ", dilation={}", list(&c.dilation))?;
    }
    if !c.bias {
        write!(f, ", bias=false")?;
    }
    write!(f, ")")
}
