//! The other processes of a data-parallel run and what they exchange: the rows of a
//! batch's latents (the truncated SVD couples every sample of the global batch, so each
//! rank needs all of them), the gradients of the parameters and the loss's sums.
//!
//! One trait, [`Collective`], and its implementations: [`Single`] (one process, the
//! default: no exchange at all), [`Threads`] (ranks as threads of one process: the
//! tests' way to check the distributed step against the single one without MPI) and,
//! behind the `mpi` cargo feature, `Mpi` (rsmpi over any MPI: OpenMPI, MPICH, a
//! cluster's). Devices and collectives are orthogonal: a rank's buffers cross to the
//! host for the exchange, so a CPU rank and a GPU rank run the same trainer code.
//!
//! Sums are deterministic: every implementation gathers each rank's vector and adds them
//! in rank order on every rank ([`Collective::sum_f64`]), rather than MPI_Allreduce,
//! whose association the standard leaves to the algorithm. So a run is the same bits for
//! a given number of ranks, and every rank holds the same parameters after every step.

#[cfg(feature = "mpi")]
mod mpi;
mod threads;

#[cfg(feature = "mpi")]
pub use self::mpi::{launched, Mpi};
pub use self::threads::Threads;

use crate::error::Result;
use std::fmt;

/// The ranks of a run, and the exchanges the distributed step needs.
pub trait Collective: Send + Sync + fmt::Debug {
    /// This process's rank, 0 ≤ rank < size.
    fn rank(&self) -> usize;

    /// The number of ranks.
    fn size(&self) -> usize;

    /// Every rank's `local` values concatenated in rank order; rank r gives
    /// `counts[r]` values (every rank passes the same `counts`).
    fn all_gather_f64(&self, local: &[f64], counts: &[usize]) -> Result<Vec<f64>>;

    /// [`Collective::all_gather_f64`] of f32 values.
    fn all_gather_f32(&self, local: &[f32], counts: &[usize]) -> Result<Vec<f32>>;

    /// Root's `bytes` on every rank (the other ranks' are replaced).
    fn broadcast(&self, bytes: &mut Vec<u8>, root: usize) -> Result<()>;

    /// The element-wise sum over ranks of `v` (the same length on every rank), added in
    /// rank order: ((rank 0 + rank 1) + rank 2) + …, the same bits on every rank.
    fn sum_f64(&self, v: &mut [f64]) -> Result<()> {
        if self.size() == 1 {
            return Ok(());
        }
        let all = self.all_gather_f64(v, &vec![v.len(); self.size()])?;
        ordered_sum(&all, v);
        Ok(())
    }

    /// [`Collective::sum_f64`] of f32 values (summed in f32, as a single process sums a
    /// batch's gradients).
    fn sum_f32(&self, v: &mut [f32]) -> Result<()> {
        if self.size() == 1 {
            return Ok(());
        }
        let all = self.all_gather_f32(v, &vec![v.len(); self.size()])?;
        ordered_sum(&all, v);
        Ok(())
    }
}

/// `out[i] = Σ_r all[r·n + i]`, added in rank order.
fn ordered_sum<T: Copy + std::ops::Add<Output = T>>(all: &[T], out: &mut [T]) {
    let n = out.len();
    if n == 0 {
        return;
    }
    out.copy_from_slice(&all[..n]);
    for part in all.chunks(n).skip(1) {
        for (o, x) in out.iter_mut().zip(part) {
            *o = *o + *x;
        }
    }
}

/// How `batch` rows split into `ranks` contiguous shards: the first `batch % ranks`
/// ranks take one row more. Every rank computes the same counts.
pub fn shard_counts(batch: usize, ranks: usize) -> Vec<usize> {
    let ranks = ranks.max(1);
    (0..ranks)
        .map(|r| batch / ranks + usize::from(r < batch % ranks))
        .collect()
}

/// The first row of rank `rank`'s shard.
pub fn shard_start(counts: &[usize], rank: usize) -> usize {
    counts[..rank.min(counts.len())].iter().sum()
}

/// One process: no exchange; every operation returns its input.
#[derive(Clone, Copy, Debug, Default)]
pub struct Single;

impl Collective for Single {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn all_gather_f64(&self, local: &[f64], _: &[usize]) -> Result<Vec<f64>> {
        Ok(local.to_vec())
    }

    fn all_gather_f32(&self, local: &[f32], _: &[usize]) -> Result<Vec<f32>> {
        Ok(local.to_vec())
    }

    fn broadcast(&self, _: &mut Vec<u8>, _: usize) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
