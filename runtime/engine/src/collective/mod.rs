//! The other processes of a data-parallel run and what they exchange: the rows of a
//! batch's latents (the truncated SVD couples every sample of the global batch, so each
//! rank needs all of them), the gradients of the parameters and the loss's sums.
//!
//! One trait, [`Collective`], and its implementations: [`Single`] (one process, the
//! default: no exchange at all), [`Threads`] (ranks as threads of one process: the
//! tests' way to check the distributed step against the single one without MPI) and,
//! behind the `mpi` cargo feature, `Mpi` (rsmpi over any MPI: OpenMPI, MPICH, a
//! cluster's), and [`Nccl`] for `--device cuda` ranks (NCCL moves the data between
//! GPUs; the host collective carries its id). Devices and collectives are orthogonal:
//! a rank's buffers cross to the host for the exchange, so a CPU rank and a GPU rank
//! run the same trainer code.
//!
//! Sums are deterministic: every implementation gathers each rank's vector and adds them
//! in rank order on every rank ([`Collective::sum_f64`]), rather than MPI_Allreduce,
//! whose association the standard leaves to the algorithm. So a run is the same bits for
//! a given number of ranks, and every rank holds the same parameters after every step.

mod check;
#[cfg(feature = "mpi")]
mod mpi;
mod nccl;
mod threads;

pub use self::check::check;
#[cfg(feature = "mpi")]
pub use self::mpi::Mpi;
pub use self::nccl::{library as nccl_library, Nccl};
pub use self::threads::Threads;

use crate::error::Result;
use std::fmt;
use std::sync::Arc;

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

    /// Ends every rank's process with `code`, at once: what a rank that fails does,
    /// so that the others do not wait for it in their next exchange.
    fn abort(&self, code: i32) -> !;

    /// The element-wise sum over ranks of `v` (the same length on every rank), added in
    /// rank order: ((rank 0 + rank 1) + rank 2) + …, the same bits on every rank.
    fn sum_f64(&self, v: &mut [f64]) -> Result<()> {
        sum_by_gather(self.size(), v, |l, c| self.all_gather_f64(l, c))
    }

    /// [`Collective::sum_f64`] of f32 values (summed in f32, as a single process sums a
    /// batch's gradients).
    fn sum_f32(&self, v: &mut [f32]) -> Result<()> {
        sum_by_gather(self.size(), v, |l, c| self.all_gather_f32(l, c))
    }
}

/// `v` summed over `ranks` ranks: every rank's `v` gathered by `gather`, then added in
/// rank order.
fn sum_by_gather<T: Copy + std::ops::Add<Output = T>>(
    ranks: usize,
    v: &mut [T],
    gather: impl FnOnce(&[T], &[usize]) -> Result<Vec<T>>,
) -> Result<()> {
    if ranks == 1 {
        return Ok(());
    }
    let all = gather(v, &vec![v.len(); ranks])?;
    ordered_sum(&all, v);
    Ok(())
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

/// The number of ranks an MPI launcher (`mpirun`, `mpiexec`, `srun`) started, from the
/// variables it sets; `None` for a process started alone.
pub fn launched_size() -> Option<usize> {
    from_launcher(&[
        "OMPI_COMM_WORLD_SIZE",
        "PMI_SIZE",
        "PMIX_SIZE",
        "MPI_LOCALNRANKS",
        "SLURM_NTASKS",
    ])
}

/// This process's rank as the MPI launcher numbered it, before MPI is initialised;
/// `None` for a process started alone.
pub fn launched_rank() -> Option<usize> {
    from_launcher(&[
        "OMPI_COMM_WORLD_RANK",
        "PMI_RANK",
        "PMIX_RANK",
        "SLURM_PROCID",
    ])
}

/// This process's number among the ranks on its own machine (`OMPI_COMM_WORLD_LOCAL_RANK`,
/// `MPI_LOCALRANKID`, `SLURM_LOCALID`), which picks its GPU; `None` for a process
/// started alone.
pub fn launched_local_rank() -> Option<usize> {
    from_launcher(&[
        "OMPI_COMM_WORLD_LOCAL_RANK",
        "MPI_LOCALRANKID",
        "PMI_LOCAL_RANK",
        "SLURM_LOCALID",
    ])
}

/// The first of the launchers' variables `vars` that is set to a number.
fn from_launcher(vars: &[&str]) -> Option<usize> {
    vars.iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
}

/// An error unless `counts` has one entry per rank and this rank's is `local` values:
/// what the gathers of the MPI and NCCL collectives check before they exchange.
fn check_counts(rank: usize, size: usize, local: usize, counts: &[usize]) -> Result<()> {
    if counts.len() != size || counts[rank] != local {
        return Err(crate::error::EngineError::Collective {
            rank,
            reason: format!("gives {local} values for counts {counts:?} over {size} ranks"),
        });
    }
    Ok(())
}

/// An error on every rank unless every rank gives the same `value` (the model file,
/// the program): ranks started differently are refused before they train, each told
/// which ranks differ.
pub fn agree(c: &dyn Collective, what: &str, value: &str) -> Result<()> {
    if c.size() == 1 {
        return Ok(());
    }
    let mut root = value.as_bytes().to_vec();
    c.broadcast(&mut root, 0)?;
    let differs = f64::from(u8::from(root != value.as_bytes()));
    let flags = c.all_gather_f64(&[differs], &vec![1; c.size()])?;
    let odd: Vec<usize> = (0..c.size()).filter(|&r| flags[r] > 0.0).collect();
    match odd.first() {
        None => Ok(()),
        Some(&rank) => Err(crate::error::EngineError::Collective {
            rank,
            reason: format!(
                "{what} differs from rank 0's on rank{} {odd:?} (rank 0: {})",
                if odd.len() == 1 { "" } else { "s" },
                String::from_utf8_lossy(&root)
            ),
        }),
    }
}

/// A run's ranks, shared by the trainer and the step's ops: [`Single`] by default.
#[derive(Clone, Debug)]
pub struct Ranks(pub Arc<dyn Collective>);

impl Default for Ranks {
    fn default() -> Ranks {
        Ranks(Arc::new(Single))
    }
}

impl std::ops::Deref for Ranks {
    type Target = dyn Collective;

    fn deref(&self) -> &(dyn Collective + 'static) {
        &*self.0
    }
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

    fn abort(&self, code: i32) -> ! {
        std::process::exit(code)
    }
}

#[cfg(test)]
mod tests;
