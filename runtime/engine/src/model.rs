//! Lowering: one checked IR graph → a runnable model, one lowering per IR op.
//!
//! Encoder and decoder become lists of [`Layer`]s over `(batch, features)` matrices;
//! parameters are registered in a [`ParamSet`] named after the IR node
//! (`encoder.7.weight`). Only checked IR reaches this point, so every shape here is
//! known to agree.

use crate::backend::Backend;
use crate::error::Result;
use crate::latent::LowerCx;
use crate::ops::weighted::Epilogue;
use crate::params::{Init, ParamSet};
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_lang::ir::Ir;
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
    /// The latent map's own parameters (a learned basis), between the encoder's and the
    /// decoder's: computed on the global batch in a data-parallel step, so their
    /// gradients are the same on every rank and are not summed over ranks.
    pub latent_params: std::ops::Range<usize>,
    /// The encoder at inference: `encoder`, then what the latent map keeps once
    /// training ends ([`Latent::inference_layers`], a VAE's μ map).
    pub inference_encoder: Vec<Lowered>,
}

pub use crate::profile::Profile;

impl Model {
    /// Lowers a checked IR; parameters are drawn from `seed`.
    pub fn lower(ir: &Ir, seed: u64) -> Result<Model> {
        let mut params = ParamSet::default();
        let mut init = Init::new(seed);
        let mut encoder: Vec<_> = ir
            .encoder
            .iter()
            .map(|n| Lowered::lower(n, "encoder", &mut params, &mut init))
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
        let latent_params = encoder_params..cx.params.params.len();
        let inference_encoder = encoder
            .iter()
            .cloned()
            .chain(latent.inference_layers())
            .collect();
        let decoder = ir
            .decoder
            .iter()
            .map(|n| Lowered::lower(n, "decoder", &mut params, &mut init))
            .collect();
        Ok(Model {
            ir: ir.clone(),
            encoder,
            latent,
            decoder,
            params,
            encoder_params,
            latent_params,
            inference_encoder,
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
            let what = l.layer.describe(&self.params);
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
        let fuse = l.layer.fuses_relu() && layers.get(i + 1).is_some_and(|n| n.layer.is_relu());
        let epilogue = if fuse { Epilogue::Relu } else { Epilogue::None };
        let input = x;
        x = l.layer.forward(tape, x, params, epilogue)?;
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
        Some(reason) => Err(crate::error::EngineError::Device {
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
