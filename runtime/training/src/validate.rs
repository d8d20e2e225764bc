//! The validation loss: the training loss's reconstruction term on held-out data,
//! measured every `validate_every` steps so that a run shows when it starts to
//! overfit, long before the final evaluation.
//!
//! In the training phase it is the training form on test batches (encoder, the latent
//! operator at the rank in force, decoder); in fine-tuning, the inference form the
//! decoder is being tuned for (encoder, projection on U_f, decoder). Penalties
//! (sparsity, contraction) are left out: they measure the model, not the data. The
//! test set's first [`SAMPLES`] samples are used, in batches of the training batch size,
//! so a measurement costs a fixed number of forward passes whatever the test set's
//! size. It runs forward only, on parameters copied from the device, and touches no
//! random state: the training trace is the same with or without it.

use crate::error::Result;
use crate::train::{Phase, Train, Trainer};
use rrae_engine::latent::project::projector;
use rrae_engine::model::{healthy, Model};
use rrae_engine::on_placed;
use rrae_engine::ops::loss::loss;
use rrae_engine::tape::Tape;

/// The test samples a validation loss reads (the first ones).
pub const SAMPLES: usize = 1024;

impl Trainer<'_> {
    /// Whether the step just logged (0-based `step` in its phase) is followed by a
    /// validation: every `validate_every` steps, on rank 0 of a data-parallel run (the
    /// one that writes the log), when there is a test set.
    pub fn validates_after(&self, step: usize) -> bool {
        let every = self.model.ir.train.validate_every;
        every > 0
            && (step + 1).is_multiple_of(every)
            && self.ranks.rank() == 0
            && !self.data.test.is_empty()
    }

    /// The validation loss of the model as it is now, in the current phase: the mean of
    /// the per-batch losses weighted by batch size.
    pub fn validation_loss(&mut self) -> Result<f64> {
        self.sync_params();
        let n = (self.data.test.len() / self.data.dim.max(1)).min(SAMPLES);
        let rows = &self.data.test[..n * self.data.dim];
        let p: Option<Vec<f32>> = match self.phase() {
            Phase::Train => None,
            Phase::FineTune => self.basis.as_ref().map(projector),
        };
        let cx = Cx {
            model: &self.model,
            rows,
            dim: self.data.dim,
            batch: self.model.ir.train.batch.max(1),
            projector: p.as_deref(),
        };
        Ok(on_placed!(&self.placed, dev, _res => validate_on(dev, &cx))?)
    }
}

struct Cx<'a> {
    model: &'a Model,
    rows: &'a [f32],
    dim: usize,
    batch: usize,
    /// U_f U_fᵀ in fine-tuning; `None` in training.
    projector: Option<&'a [f32]>,
}

fn validate_on<D: Train>(dev: &D, cx: &Cx) -> rrae_engine::Result<f64> {
    let m = cx.model;
    let mut tape = Tape::inference(dev.clone());
    let params = m.params.bind(&mut tape);
    let p = cx
        .projector
        .map(|p| tape.constant(dev.upload(p), m.latent_dim(), m.latent_dim()));
    let (mut total, mut count) = (0.0, 0usize);
    for part in cx.rows.chunks(cx.dim * cx.batch) {
        let n = part.len() / cx.dim;
        // The encoder frees its input once read (an inference tape's way), so the loss
        // compares against a copy of its own.
        let x = tape.constant(dev.upload(part), n, cx.dim);
        let target = tape.constant(dev.upload(part), n, cx.dim);
        let y = m.encode(&mut tape, &params, x, None)?;
        let z = match p {
            None => m.latent.forward(&mut tape, y, &params)?.0,
            Some(p) => rrae_engine::latent::project::project(&mut tape, y, p)?,
        };
        let pred = m.decode(&mut tape, &params, z, None)?;
        let l = loss(&mut tape, m.ir.train.loss, pred, target);
        total += tape.item(l) * n as f64;
        count += n;
        for v in [x, target, y, z, pred, l] {
            tape.release(v);
        }
    }
    healthy(dev)?;
    Ok(total / count.max(1) as f64)
}
