//! Shape inference: walks encoder → latent → decoder, computes every tensor's shape and
//! parameter count, checks the constraints (kernels fit, k ≤ min(L, batch), decoder
//! output = input) and builds the [`Ir`]. Errors point at the offending layer and say
//! how to fix it.

use crate::checks::{positive, too_large, too_many};
use crate::error::{Error, ErrorKind, Result};
use crate::ir::*;
use crate::latent::LATENT_OPS;
use crate::layer::LAYERS;
use crate::resolve::{LayerCall, Resolved};
use crate::shape::Shape;
use crate::signature::Bound;

/// Infer one layer's output shape and parameter count.
fn layer(call: &LayerCall, input: &Shape) -> Result<(Op, Shape, usize)> {
    let cx = crate::layer::Cx {
        b: &call.bound,
        input,
    };
    Op::check(&cx).unwrap_or_else(|| {
        Err(ErrorKind::UnknownLayer {
            span: call.bound.span,
            name: call.bound.op.clone(),
            suggestion: None,
            known: LAYERS.iter().map(|l| l.name).collect(),
        }
        .into())
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
            .rposition(|n| n.op.out().is_some())
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
    let batch = train.batch.min(samples.unwrap_or(usize::MAX));
    let cx = crate::latent::Cx {
        b,
        dim,
        batch,
        k_max: dim.min(batch),
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
            known: LATENT_OPS.iter().map(|o| o.name).collect(),
        }
        .into())
    })?;
    Ok(LatentNode {
        id,
        params: op.params(dim),
        op,
        dim,
        k_max: cx.k_max,
        span: b.span,
    })
}

/// Check shapes and build the IR.
pub fn infer(r: &Resolved) -> Result<Ir> {
    let input = Shape(r.input.iter().map(|d| *d as usize).collect());
    if too_many(&input.0) {
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
        let (at, help) = output_fix(&decoder, &out, &input);
        let layer = decoder.get(at);
        // A layer from a block call is the call's doing: the diagnostic points at the
        // call in the user's file, and a block that takes its output shape (`out`, as
        // the stdlib's decoders do) is told what to pass.
        if let Some((call, block)) = layer.and_then(|n| n.trace.first()) {
            let help = if block_takes(block, "out") {
                format!("write `out = {input}` in this call: `{block}`'s `out` is the shape it decodes to")
            } else {
                format!("change this call's arguments so that `{block}` ends at {input}; inside it, {help}")
            };
            return Err(ErrorKind::OutputMismatch {
                span: *call,
                produced: out,
                expected: input,
                input: r.input_span,
                help,
                inside: layer.map(|n| (block.clone(), n.span)),
            }
            .into());
        }
        let e: Error = ErrorKind::OutputMismatch {
            span: layer.map_or(r.decoder_span, |n| n.span),
            produced: out,
            expected: input,
            input: r.input_span,
            help,
            inside: None,
        }
        .into();
        return Err(match layer {
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
        sample_prior: sample_prior(eb, latent.op.prior())?,
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

/// Whether the standard library's block `name` has a parameter `param`.
fn block_takes(name: &str, param: &str) -> bool {
    crate::loader::STDLIB.iter().any(|(module, text)| {
        crate::parse(module, text).1.is_ok_and(|m| {
            m.items.iter().any(|it| match it {
                crate::ast::Item::Block(b) => {
                    b.name.name == name && b.params.iter().any(|p| p.name.name == param)
                }
                _ => false,
            })
        })
    })
}

#[cfg(test)]
#[path = "infer_tests.rs"]
mod tests;

/// `sample_prior` of the eval block: the latent's own choice unless given, and refused
/// where the latent has no prior to sample (an RRAE's coefficients have no N(0, I) to
/// match; drawing from it would decode noise without saying so).
fn sample_prior(eb: &Bound, has_prior: bool) -> Result<bool> {
    if !eb.given("sample_prior") {
        return Ok(has_prior);
    }
    let on = eb.bool("sample_prior");
    if on && !has_prior {
        return Err(ErrorKind::OptionConflict {
            span: eb.span("sample_prior"),
            op: eb.op.clone(),
            option: "sample_prior".into(),
            reason: "only a latent with a prior (`vae`, `vrrae`) can sample N(0, I); this one samples a Gaussian fitted to its training coefficients".into(),
        }
        .into());
    }
    Ok(on)
}
