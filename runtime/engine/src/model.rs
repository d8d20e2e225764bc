//! Lowering: one checked IR graph → a runnable model, one lowering per IR op.
//!
//! Encoder and decoder become lists of [`Layer`]s over `(batch, features)` matrices;
//! parameters are registered in a [`ParamSet`] named after the IR node
//! (`encoder.7.weight`). Only checked IR reaches this point, so every shape here is
//! known to agree.

use crate::backend::Backend;
use crate::error::Result;
use crate::latent::LowerCx;
use crate::ops::activation::{activate, Activation};
use crate::ops::linear::linear;
use crate::ops::weighted::Epilogue;
use crate::ops::{conv2d, conv_transpose2d};
use crate::params::{Init, ParamSet};
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_artifact::Geometry;
use rrae_lang::ir::{Conv, Ir, Node, Op};
use std::time::Instant;

pub use crate::latent::Latent;
pub use crate::layer::{Layer, Lowered};

pub struct Model {
    pub ir: Ir,
    pub encoder: Vec<Lowered>,
    pub latent: Latent,
    pub decoder: Vec<Lowered>,
    pub params: ParamSet,
    /// Parameters `0..encoder_params` belong to the encoder.
    pub encoder_params: usize,
}

pub use crate::profile::Profile;

fn geometry(c: &Conv, node: &Node, transpose: bool) -> Geometry {
    // 1-D convolutions run as 2-D ones of height 1.
    let two = |v: &[usize], one: usize| -> [usize; 2] {
        if v.len() == 1 {
            [one, v[0]]
        } else {
            [v[0], v[1]]
        }
    };
    let grid = |s: &[usize]| -> [usize; 2] { two(&s[1..], 1) };
    let (big, small) = if transpose {
        (grid(node.output.dims()), grid(node.input.dims()))
    } else {
        (grid(node.input.dims()), grid(node.output.dims()))
    };
    Geometry {
        channels: if transpose {
            c.out_channels
        } else {
            c.in_channels
        },
        big,
        small,
        kernel: two(&c.kernel, 1),
        stride: two(&c.stride, 1),
        padding: two(&c.padding, 0),
        dilation: two(&c.dilation, 1),
    }
}

fn lower_node(node: &Node, stage: &str, ps: &mut ParamSet, init: &mut Init) -> Lowered {
    let name = |p: &str| format!("{stage}.{}.{p}", node.id);
    let bias = |ps: &mut ParamSet, init: &mut Init, on: bool, n: usize, fan_in: usize| {
        on.then(|| ps.push(name("bias"), vec![n], init.uniform(n, fan_in)))
    };
    let layer = match &node.op {
        Op::Conv(c) => {
            let geo = geometry(c, node, false);
            let k = geo.col_rows();
            let w = ps.push(
                name("weight"),
                vec![c.out_channels, k],
                init.uniform(c.out_channels * k, k),
            );
            let b = bias(ps, init, c.bias, c.out_channels, k);
            Layer::Conv { geo, w, b }
        }
        Op::ConvTranspose(c) => {
            let geo = geometry(c, node, true);
            let k = geo.col_rows();
            // PyTorch's fan-in of a transposed convolution's weight [C_in, C_out, kh, kw]
            // is C_out·kh·kw.
            let w = ps.push(
                name("weight"),
                vec![c.in_channels, k],
                init.uniform(c.in_channels * k, k),
            );
            let b = bias(ps, init, c.bias, c.out_channels, k);
            Layer::ConvT { geo, w, b }
        }
        Op::Linear {
            in_features,
            out_features,
            bias: has_bias,
        } => {
            let (i, o) = (*in_features, *out_features);
            let w = ps.push(name("weight"), vec![i, o], init.uniform(i * o, i));
            let b = bias(ps, init, *has_bias, o, i);
            Layer::Linear { w, b }
        }
        Op::Flatten | Op::Reshape(_) => Layer::View,
        Op::Relu => Layer::Act(Activation::Relu),
        Op::Sigmoid => Layer::Act(Activation::Sigmoid),
        Op::Tanh => Layer::Act(Activation::Tanh),
        Op::LeakyRelu(a) => Layer::Act(Activation::LeakyRelu(*a)),
    };
    Lowered {
        node: node.id,
        label: format!("%{} {}", node.id, node.op),
        layer,
    }
}

impl Model {
    /// Lowers a checked IR; parameters are drawn from `seed`.
    pub fn lower(ir: &Ir, seed: u64) -> Result<Model> {
        let mut params = ParamSet::default();
        let mut init = Init::new(seed);
        let mut encoder: Vec<_> = ir
            .encoder
            .iter()
            .map(|n| lower_node(n, "encoder", &mut params, &mut init))
            .collect();
        let mut cx = LowerCx {
            ir,
            encoder: &mut encoder,
            params: &mut params,
            init: &mut init,
        };
        let mut latent = Latent::lower(&ir.latent.op, &mut cx)?;
        let encoder_params = cx.params.params.len();
        latent.latent_params(&mut cx);
        let decoder = ir
            .decoder
            .iter()
            .map(|n| lower_node(n, "decoder", &mut params, &mut init))
            .collect();
        Ok(Model {
            ir: ir.clone(),
            encoder,
            latent,
            decoder,
            params,
            encoder_params,
        })
    }

    pub fn latent_dim(&self) -> usize {
        self.ir.latent.dim
    }

    /// Freezes (or thaws) the encoder's parameters.
    pub fn freeze_encoder(&mut self, frozen: bool) {
        for p in &mut self.params.params[..self.encoder_params] {
            p.frozen = frozen;
        }
    }

    /// The encoder over `x`, with the parameters `params` bound on `tape`.
    pub fn encode<D: Backend<E>, E: Real>(
        &self,
        tape: &mut Tape<D, E>,
        params: &[Var],
        x: Var,
        prof: Option<&mut Profile>,
    ) -> Result<Var> {
        run(tape, &self.encoder, params, x, prof)
    }

    /// The decoder over `z`.
    pub fn decode<D: Backend<E>, E: Real>(
        &self,
        tape: &mut Tape<D, E>,
        params: &[Var],
        z: Var,
        prof: Option<&mut Profile>,
    ) -> Result<Var> {
        run(tape, &self.decoder, params, z, prof)
    }

    /// The lowered graph, as `RRAE_DEBUG=1` prints it.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, l: &Lowered| {
            let p = |i: &Option<usize>| i.map(|i| self.params.params[i].name.clone());
            let what = match &l.layer {
                Layer::Conv { geo, w, b } | Layer::ConvT { geo, w, b } => format!(
                    "im2col {:?}→{:?} kernel {:?} · {} {}",
                    geo.big,
                    geo.small,
                    geo.kernel,
                    self.params.params[*w].name,
                    p(b).unwrap_or_default()
                ),
                Layer::Linear { w, b } => format!(
                    "gemm · {} {}",
                    self.params.params[*w].name,
                    p(b).unwrap_or_default()
                ),
                Layer::Act(a) => format!("{a:?}"),
                Layer::View => "view (no copy)".into(),
            };
            s.push_str(&format!("  {:<40} {}\n", l.label, what));
        };
        s.push_str("encoder:\n");
        self.encoder.iter().for_each(|l| line(&mut s, l));
        s.push_str(&format!("latent: {:?}\n", self.latent.label(&self.params)));
        s.push_str("decoder:\n");
        self.decoder.iter().for_each(|l| line(&mut s, l));
        s
    }
}

/// `layers` over `x`. On an inference tape each layer's input is freed once read.
pub fn run<D: Backend<E>, E: Real>(
    tape: &mut Tape<D, E>,
    layers: &[Lowered],
    params: &[Var],
    mut x: Var,
    mut prof: Option<&mut Profile>,
) -> Result<Var> {
    let mut i = 0;
    while i < layers.len() {
        let l = &layers[i];
        let t0 = Instant::now();
        // A ReLU right after a convolution runs in the convolution's epilogue.
        let fuse = matches!(l.layer, Layer::Conv { .. } | Layer::ConvT { .. })
            && layers
                .get(i + 1)
                .is_some_and(|n| n.layer == Layer::Act(Activation::Relu));
        let epilogue = if fuse { Epilogue::Relu } else { Epilogue::None };
        let input = x;
        x = match &l.layer {
            Layer::Conv { geo, w, b } => {
                conv2d(tape, x, params[*w], b.map(|b| params[b]), *geo, epilogue)
            }
            Layer::ConvT { geo, w, b } => {
                conv_transpose2d(tape, x, params[*w], b.map(|b| params[b]), *geo, epilogue)
            }
            Layer::Linear { w, b } => linear(tape, x, params[*w], b.map(|b| params[b]))?,
            Layer::Act(a) => activate(tape, x, *a),
            Layer::View => x,
        };
        if x != input && i > 0 {
            tape.release(input);
        }
        if let Some(p) = prof.as_deref_mut() {
            tape.dev().synchronize();
            if fuse {
                p.record(&format!("{} + {}", l.label, layers[i + 1].label), t0);
            } else {
                p.record(&l.label, t0);
            }
        }
        i += if fuse { 2 } else { 1 };
    }
    Ok(x)
}

/// `layers` over host `rows` (`dim` values each) on an inference tape, `chunk` rows at
/// a time; the outputs, row by row on the host. Each chunk's input and output are freed
/// before the next, so memory holds one chunk's activations.
pub fn infer<D: Backend<E>, E: Real>(
    dev: &D,
    layers: &[Lowered],
    params: &ParamSet,
    rows: &[E],
    dim: usize,
    chunk: usize,
) -> Result<Vec<E>> {
    let mut tape = Tape::inference(dev.clone());
    let vars = params.bind(&mut tape);
    let mut out = vec![];
    for part in rows.chunks(dim.max(1) * chunk.max(1)) {
        let x = tape.constant(dev.upload(part), part.len() / dim.max(1), dim);
        let y = run(&mut tape, layers, &vars, x, None)?;
        out.extend(tape.download(y));
        tape.release(x);
        tape.release(y);
    }
    healthy(dev)?;
    Ok(out)
}

/// An error if a kernel on `dev` failed (a GPU records failures instead of returning
/// them; the CPU's kernels cannot fail), so no caller reads a failed device's outputs.
pub fn healthy<D: crate::device::Device>(dev: &D) -> Result<()> {
    match dev.failure() {
        Some(reason) => Err(crate::error::RuntimeError::Device {
            asked: dev.name(),
            reason,
        }),
        None => Ok(()),
    }
}

/// `rows · P` (`l` values each) for the projector `p` (`l × l`) on an inference tape.
pub fn project_rows<D: Backend<E>, E: Real>(
    dev: &D,
    rows: &[E],
    l: usize,
    p: &[E],
) -> Result<Vec<E>> {
    let mut tape = Tape::inference(dev.clone());
    let x = tape.constant(dev.upload(rows), rows.len() / l.max(1), l);
    let p = tape.constant(dev.upload(p), l, l);
    let y = crate::latent::project::project(&mut tape, x, p)?;
    let out = tape.download(y);
    healthy(dev)?;
    Ok(out)
}
