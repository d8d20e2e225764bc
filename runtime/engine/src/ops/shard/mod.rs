//! The ops that make a step data-parallel with the exact global-batch SVD. A rank runs
//! the encoder on its shard of the batch (contiguous rows), then:
//!
//! - [`gather_rows`]: every rank's latents, concatenated in rank order, so each rank
//!   holds the global batch's Y and runs the latent operator (the truncated SVD)
//!   on all of it, the same on every rank. Its backward keeps this rank's rows of the
//!   gradient, which the latent operator's backward made the same on every rank.
//! - [`shard_rows`]: this rank's rows of the latent map's output, for its decoder. Its
//!   backward gathers every rank's gradient rows, so the latent operator's backward
//!   (the SVD's stable backward) sees the global batch's gradient.
//! - [`sharded_loss`]: the loss of the global batch from each rank's sums (the relative
//!   L2's squared error and squared norm, added over ranks before the ratio).
//!
//! Each crosses to the host for the exchange. Parameter gradients are then summed over
//! ranks in rank order ([`Collective::sum_f32`]), by the trainer.

#[cfg(test)]
mod tests;

use crate::collective::{shard_start, Collective};
use crate::error::Result;
use crate::ops::loss::value_and_scale;
use crate::tape::{Tape, TapeKernel, Var};
use crate::tensor::Real;
use rrae_lang::ir::Loss;
use std::sync::Arc;

/// A training precision the ranks can exchange.
pub trait Exchange: Real {
    fn all_gather(c: &dyn Collective, local: &[Self], counts: &[usize]) -> Result<Vec<Self>>;
}

impl Exchange for f32 {
    fn all_gather(c: &dyn Collective, local: &[f32], counts: &[usize]) -> Result<Vec<f32>> {
        c.all_gather_f32(local, counts)
    }
}

impl Exchange for f64 {
    fn all_gather(c: &dyn Collective, local: &[f64], counts: &[usize]) -> Result<Vec<f64>> {
        c.all_gather_f64(local, counts)
    }
}

/// How a batch is split: the collective and each rank's number of rows.
#[derive(Clone, Debug)]
pub struct Shards {
    pub comm: Arc<dyn Collective>,
    /// Rows of the global batch per rank, in rank order.
    pub rows: Vec<usize>,
}

impl Shards {
    fn mine(&self) -> usize {
        self.rows[self.comm.rank()]
    }

    fn start(&self) -> usize {
        shard_start(&self.rows, self.comm.rank())
    }

    /// `rows` scaled to values of `cols` each.
    fn counts(&self, cols: usize) -> Vec<usize> {
        self.rows.iter().map(|r| r * cols).collect()
    }
}

/// Every rank's rows of `y` (this rank's `shards.mine()` rows), in rank order.
pub fn gather_rows<D: TapeKernel<E>, E: Exchange>(
    tape: &mut Tape<D, E>,
    shards: &Shards,
    y: Var,
) -> Result<Var> {
    let cols = y.cols;
    let all = E::all_gather(&*shards.comm, &tape.download(y), &shards.counts(cols))?;
    let total = all.len() / cols.max(1);
    let out = tape.output(tape.dev().upload(&all), total, cols, &[y]);
    let (start, mine) = (shards.start(), shards.mine());
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            let g = pass.dev().download(&g);
            let rows = pass.dev().upload(&g[start * cols..(start + mine) * cols]);
            pass.add_grad(y, rows);
        }
        Ok(())
    });
    Ok(out)
}

/// This rank's rows of `z` (the global batch's), for its decoder.
pub fn shard_rows<D: TapeKernel<E>, E: Exchange>(
    tape: &mut Tape<D, E>,
    shards: &Shards,
    z: Var,
) -> Result<Var> {
    let cols = z.cols;
    let (start, mine) = (shards.start(), shards.mine());
    let all = tape.download(z);
    let rows = tape.dev().upload(&all[start * cols..(start + mine) * cols]);
    let out = tape.output(rows, mine, cols, &[z]);
    let shards = shards.clone();
    tape.on_backward(out, move |pass| {
        // Every rank joins the exchange, with zeros if no gradient reached its rows.
        let g = match pass.take_grad(out) {
            Some(g) => pass.dev().download(&g),
            None => vec![E::zero(); mine * cols],
        };
        let all = E::all_gather(&*shards.comm, &g, &shards.counts(cols))?;
        let all = pass.dev().upload(&all);
        pass.add_grad(z, all);
        Ok(())
    });
    Ok(out)
}

/// The loss of the global batch, from this rank's predictions `pred` of its rows of
/// `target`: each rank's sums (in f64) are added over the ranks before the loss is
/// formed, as one process forms it from the whole batch (`ops::loss`).
pub fn sharded_loss<D: TapeKernel<E>, E: Exchange>(
    tape: &mut Tape<D, E>,
    shards: &Shards,
    kind: Loss,
    pred: Var,
    target: Var,
) -> Result<Var> {
    let (p, t) = (tape.download(pred), tape.download(target));
    let d: Vec<f64> = p.iter().zip(&t).map(|(a, b)| a.f64() - b.f64()).collect();
    let mut sums = [
        d.iter().map(|v| v * v).sum::<f64>(),
        t.iter().map(|v| v.f64() * v.f64()).sum::<f64>(),
        d.len() as f64,
    ];
    shards.comm.sum_f64(&mut sums)?;
    let [sq, norm2, n] = sums;
    let (value, dscale) = value_and_scale(kind, sq, || norm2.sqrt(), n);
    let out = tape.scalar(E::of(value), &[pred]);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            let g = pass.dev().download(&g)[0].f64();
            let dp: Vec<E> = d.iter().map(|v| E::of(g * dscale * v)).collect();
            let dp = pass.dev().upload(&dp);
            pass.add_grad(pred, dp);
        }
        Ok(())
    });
    Ok(out)
}
