//! Shape inference: walks encoder → latent → decoder, computes every tensor's shape and
//! parameter count, checks the constraints (kernels fit, k ≤ min(L, batch), decoder
//! output = input) and builds the [`Ir`]. Errors point at the offending layer and say
//! how to fix it.

use crate::error::{Error, ErrorKind, Result};
use crate::ir::*;
use crate::resolve::{LayerCall, Resolved};
use crate::shape::Shape;
use crate::signature::Bound;
use crate::span::Span;
use crate::value::Value;

/// Tensors and parameter counts above this are refused (and cannot overflow).
pub const MAX_ELEMENTS: usize = 1 << 40;

pub(crate) fn too_large(span: Span, what: &str) -> Error {
    ErrorKind::TooLarge {
        span,
        what: what.into(),
    }
    .into()
}

pub(crate) fn positive(b: &Bound, name: &str, min: i64) -> Result<()> {
    let vals: Vec<i64> = match b.get(name) {
        Some(Value::List(_)) => b.pair(name).to_vec(),
        Some(Value::Int(v)) => vec![*v],
        _ => return Ok(()),
    };
    for v in vals {
        if v < min {
            return Err(ErrorKind::InvalidValue {
                span: b.span(name),
                what: format!("`{name}` of `{}`", b.op),
                value: v.to_string(),
                reason: if min == 0 {
                    format!("`{name}` cannot be negative")
                } else {
                    format!("`{name}` must be at least {min}")
                },
            }
            .into());
        }
        if v > (1 << 30) {
            return Err(too_large(b.span(name), &format!("`{name}` of `{}`", b.op)));
        }
    }
    Ok(())
}

fn spatial(b: &Bound, name: &str, axes: usize) -> Vec<usize> {
    if axes == 1 {
        vec![b.int(name).max(0) as usize]
    } else {
        b.pair(name).iter().map(|v| (*v).max(0) as usize).collect()
    }
}

pub(crate) fn checked_params(parts: &[usize], span: Span) -> Result<usize> {
    let mut p: usize = 1;
    for x in parts {
        p = p
            .checked_mul(*x)
            .filter(|v| *v <= MAX_ELEMENTS)
            .ok_or_else(|| too_large(span, "the layer's parameter count"))?;
    }
    Ok(p)
}

/// Infer one layer's output shape and parameter count.
fn layer(call: &LayerCall, input: &Shape) -> Result<(Op, Shape, usize)> {
    let b = &call.bound;
    let span = b.span;
    let op = b.op.as_str();
    let need = |expected: &'static str, help: &str| -> Error {
        ErrorKind::RankMismatch {
            span,
            layer: op.into(),
            expected,
            found: input.clone(),
            help: help.into(),
        }
        .into()
    };
    Ok(match op {
        "conv2d" | "conv_transpose2d" | "conv1d" | "conv_transpose1d" => {
            let axes = if op.ends_with("2d") { 2 } else { 1 };
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
                return Err(need(expected, help));
            }
            for (name, min) in [
                ("out", 1),
                ("kernel", 1),
                ("stride", 1),
                ("padding", 0),
                ("dilation", 1),
            ] {
                positive(b, name, min)?;
            }
            let transpose = op.starts_with("conv_transpose");
            if transpose {
                positive(b, "output_padding", 0)?;
            }
            let c = Conv {
                in_channels: input.0[0],
                out_channels: b.int("out") as usize,
                kernel: spatial(b, "kernel", axes),
                stride: spatial(b, "stride", axes),
                padding: spatial(b, "padding", axes),
                output_padding: if transpose {
                    spatial(b, "output_padding", axes)
                } else {
                    vec![0; axes]
                },
                dilation: spatial(b, "dilation", axes),
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
            if shape
                .0
                .iter()
                .try_fold(1usize, |acc, d| acc.checked_mul(*d))
                .is_none_or(|n| n > MAX_ELEMENTS)
            {
                return Err(too_large(span, "the layer's output"));
            }
            let mut parts = vec![c.in_channels, c.out_channels];
            parts.extend(&c.kernel);
            let params = checked_params(&parts, span)? + if c.bias { c.out_channels } else { 0 };
            (
                if transpose {
                    Op::ConvTranspose(c)
                } else {
                    Op::Conv(c)
                },
                shape,
                params,
            )
        }
        "linear" => {
            if input.rank() != 1 {
                return Err(need("a vector input", "add `flatten` before it"));
            }
            positive(b, "out", 1)?;
            let (i, o) = (input.0[0], b.int("out") as usize);
            let bias = b.bool("bias");
            let params = checked_params(&[i, o], span)? + if bias { o } else { 0 };
            (
                Op::Linear {
                    in_features: i,
                    out_features: o,
                    bias,
                },
                Shape(vec![o]),
                params,
            )
        }
        "flatten" => (Op::Flatten, Shape(vec![input.numel()]), 0),
        "reshape" => {
            let to = b.int_list("shape");
            if to.is_empty() || to.len() > 3 || to.iter().any(|d| *d <= 0) {
                return Err(ErrorKind::InvalidValue {
                    span: b.span("shape"),
                    what: "reshape target".into(),
                    value: format!("{to:?}"),
                    reason: "1 to 3 positive dimensions".into(),
                }
                .into());
            }
            let n = to.iter().try_fold(1i64, |a, d| a.checked_mul(*d));
            if n != Some(input.numel() as i64) {
                return Err(ErrorKind::ReshapeMismatch {
                    span: b.span("shape"),
                    from: input.clone(),
                    to,
                }
                .into());
            }
            let s = Shape(to.iter().map(|d| *d as usize).collect());
            (Op::Reshape(s.clone()), s, 0)
        }
        "relu" => (Op::Relu, input.clone(), 0),
        "sigmoid" => (Op::Sigmoid, input.clone(), 0),
        "tanh" => (Op::Tanh, input.clone(), 0),
        "leaky_relu" => (Op::LeakyRelu(b.float("slope")), input.clone(), 0),
        other => {
            return Err(ErrorKind::UnknownLayer {
                span,
                name: other.into(),
                suggestion: None,
            }
            .into());
        }
    })
}

fn chain(calls: &[LayerCall], input: Shape, first_id: usize) -> Result<Vec<Node>> {
    let mut nodes = Vec::with_capacity(calls.len());
    let mut shape = input;
    for (k, call) in calls.iter().enumerate() {
        let (op, out, params) = layer(call, &shape)
            .map_err(|e| e.with_trace(&call.trace.iter().rev().cloned().collect::<Vec<_>>()))?;
        nodes.push(Node {
            id: first_id + k,
            op,
            input: shape,
            output: out.clone(),
            params,
            span: call.bound.span,
            trace: call.trace.clone(),
        });
        shape = out;
    }
    Ok(nodes)
}

fn with_trace(e: Error, node: &Node) -> Error {
    e.with_trace(&node.trace.iter().rev().cloned().collect::<Vec<_>>())
}

/// The suggestion for a decoder whose output shape is wrong, and the layer to blame.
fn output_fix(decoder: &[Node], produced: &Shape, expected: &Shape) -> (usize, String) {
    let last = decoder.len().saturating_sub(1);
    if produced.rank() != expected.rank() {
        let help = if produced.numel() == expected.numel() {
            format!("end the decoder with `reshape({expected})`")
        } else {
            format!(
                "the decoder must end in {expected} ({} values); it ends in {produced} ({} values)",
                expected.numel(),
                produced.numel()
            )
        };
        return (last, help);
    }
    if produced.0[0] != expected.0[0] {
        let at = decoder
            .iter()
            .rposition(|n| matches!(n.op, Op::Conv(_) | Op::ConvTranspose(_) | Op::Linear { .. }))
            .unwrap_or(last);
        return (at, format!("set this layer's `out` to {}", expected.0[0]));
    }
    let at = decoder
        .iter()
        .rposition(|n| matches!(n.op, Op::Conv(_) | Op::ConvTranspose(_)))
        .unwrap_or(last);
    let d: Vec<i64> = produced.0[1..].iter().map(|v| *v as i64).collect();
    let t: Vec<i64> = expected.0[1..].iter().map(|v| *v as i64).collect();
    let fmt_k = |k: &[i64]| {
        if k.len() == 1 || k.iter().all(|x| *x == k[0]) {
            k[0].to_string()
        } else {
            format!(
                "[{}]",
                k.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    if let Some(Node {
        op: Op::Conv(c), ..
    }) = decoder.get(at)
    {
        if c.stride.iter().all(|s| *s == 1) && c.dilation.iter().all(|s| *s == 1) {
            let k: Vec<i64> = c
                .kernel
                .iter()
                .zip(d.iter().zip(&t))
                .map(|(k, (d, t))| *k as i64 + d - t)
                .collect();
            if k.iter().all(|x| *x >= 1) {
                return (at, format!("use kernel = {} here: with stride 1 a kernel k' = k + (D − H) gives {expected} (the paper's final-kernel rule k = 1 + (D − H) for a size-preserving layer)", fmt_k(&k)));
            }
        }
    }
    if d.iter().zip(&t).all(|(d, t)| d >= t) {
        let k: Vec<i64> = d.iter().zip(&t).map(|(d, t)| 1 + d - t).collect();
        return (at, format!("append `conv2d({}, {})` to the decoder: a stride-1 convolution with the paper's kernel k = 1 + (D − H) maps {produced} to {expected}", expected.0[0], fmt_k(&k)));
    }
    (at, format!("the spatial size is too small: increase the size entering the transposed convolutions (the stdlib `cnn_decoder` computes it with `convt_in`) so that they reach at least {expected}"))
}

fn latent_ir(
    r: &Resolved,
    encoder: &[Node],
    dim: usize,
    id: usize,
    train: &TrainIr,
    samples: Option<usize>,
) -> Result<LatentNode> {
    let b = &r.latent;
    // A batch holds at most the training set (the loader clamps it), so fewer training
    // samples than `batch` bound the rank too.
    let samples = samples.filter(|&n| n < train.batch);
    let cx = crate::latent::Cx {
        b,
        dim,
        batch: train.batch.min(samples.unwrap_or(usize::MAX)),
        train,
        samples,
        batch_span: r.train.given("batch").then(|| r.train.span("batch")),
        encoder,
        dir: &r.dir,
    };
    let op = LatentOp::check(&cx).unwrap_or_else(|| {
        Err(ErrorKind::UnknownLatentOp {
            span: b.span,
            name: b.op.clone(),
            suggestion: None,
        }
        .into())
    })?;
    Ok(LatentNode {
        id,
        params: op.params(dim),
        op,
        dim,
        span: b.span,
    })
}

/// Check shapes and build the IR.
pub fn infer(r: &Resolved) -> Result<Ir> {
    let input = Shape(r.input.iter().map(|d| *d as usize).collect());
    if input
        .0
        .iter()
        .try_fold(1usize, |a, d| a.checked_mul(*d))
        .is_none_or(|n| n > MAX_ELEMENTS)
    {
        return Err(too_large(r.input_span, "the input shape"));
    }
    let train = crate::settings::train_ir(&r.train)?;
    let data = crate::settings::data_ir(r)?;
    if let Some(d) = &data {
        let ok = d.sample == input
            || (input.rank() == d.sample.rank() + 1
                && input.0[0] == 1
                && input.0[1..] == d.sample.0[..]);
        if !ok {
            let dspan = r.data[r.data_ref.unwrap_or(0)].span;
            return Err(ErrorKind::DataShapeMismatch {
                span: r.input_span,
                data: dspan,
                model: input,
                data_shape: d.sample.clone(),
            }
            .into());
        }
    }
    let encoder = chain(&r.encoder, input.clone(), 0)?;
    let enc_out = encoder.last().map_or(input.clone(), |n| n.output.clone());
    if enc_out.rank() != 1 {
        let e: Error = ErrorKind::LatentNotVector {
            span: encoder.last().map_or(r.encoder_span, |n| n.span),
            shape: enc_out,
        }
        .into();
        return Err(match encoder.last() {
            Some(n) => with_trace(e, n),
            None => e,
        });
    }
    let dim = enc_out.0[0];
    let samples = data.as_ref().map(DataIr::train_samples);
    let latent = latent_ir(r, &encoder, dim, encoder.len(), &train, samples)?;
    let decoder = chain(&r.decoder, Shape(vec![dim]), encoder.len() + 1)?;
    let out = decoder
        .last()
        .map_or(Shape(vec![dim]), |n| n.output.clone());
    if out != input {
        let (at, mut help) = output_fix(&decoder, &out, &input);
        if let Some((_, block)) = decoder.get(at).and_then(|n| n.trace.first()) {
            help.push_str(&format!(
                " (this layer comes from block `{block}`: change the arguments of that call)"
            ));
        }
        let e: Error = ErrorKind::OutputMismatch {
            span: decoder.get(at).map_or(r.decoder_span, |n| n.span),
            produced: out,
            expected: input,
            input: r.input_span,
            help,
        }
        .into();
        return Err(match decoder.get(at) {
            Some(n) => with_trace(e, n),
            None => e,
        });
    }
    let eb = &r.eval;
    for name in [
        "interpolation_pairs",
        "interpolation_points",
        "random_samples",
    ] {
        positive(eb, name, 0)?;
    }
    let is_bumps = matches!(
        data.as_ref().map(|d| &d.source),
        Some(DataSource::GaussianBumps { .. })
    );
    let eval = EvalIr {
        interpolation_pairs: eb.int("interpolation_pairs") as usize,
        interpolation_points: eb.int("interpolation_points") as usize,
        random_samples: eb.int("random_samples") as usize,
        bump_fit: if eb.get("bump_fit").is_some() {
            eb.bool("bump_fit")
        } else {
            is_bumps
        },
    };
    Ok(Ir {
        name: r.model.clone(),
        input,
        encoder,
        latent,
        decoder,
        data,
        train,
        eval,
    })
}

#[cfg(test)]
#[path = "infer_tests.rs"]
mod tests;
