//! The collective over MPI (rsmpi), for `mpirun -np N rrae run` and `srun`: one process
//! per rank, on one machine or many. MPI is initialised with
//! `MPI_THREAD_SERIALIZED` and every call goes through one lock, so the trainer's
//! thread and the main thread may each call it.

use super::Collective;
use crate::error::{EngineError, Result};
use mpi::datatype::PartitionMut;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::*;
use mpi::Threading;
use std::sync::Mutex;

/// This process's place in the MPI job (`MPI_COMM_WORLD`).
pub struct Mpi {
    rank: usize,
    size: usize,
    /// The universe finalises MPI when dropped; the world is its communicator.
    inner: Mutex<(mpi::environment::Universe, SimpleCommunicator)>,
}

// SAFETY: MPI was initialised with MPI_THREAD_SERIALIZED, which lets any thread call
// MPI as long as no two do at once; every call below holds `inner`'s lock.
unsafe impl Send for Mpi {}
// SAFETY: as above: `&Mpi` reaches MPI only through the lock.
unsafe impl Sync for Mpi {}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mpi {{ rank: {}, size: {} }}", self.rank, self.size)
    }
}

impl Mpi {
    /// Joins the MPI job. An error if MPI is already initialised or cannot give
    /// serialised threading.
    pub fn init() -> Result<Mpi> {
        let fail = |reason: String| EngineError::Collective { rank: 0, reason };
        let (universe, level) = mpi::initialize_with_threading(Threading::Serialized)
            .ok_or_else(|| fail("MPI is already initialised in this process".into()))?;
        if level < Threading::Serialized {
            return Err(fail(format!(
                "this MPI gives threading level {level:?}; rrae needs serialized"
            )));
        }
        let world = universe.world();
        Ok(Mpi {
            rank: world.rank() as usize,
            size: world.size() as usize,
            inner: Mutex::new((universe, world)),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&SimpleCommunicator) -> T) -> Result<T> {
        let guard = self.inner.lock().map_err(|_| EngineError::Collective {
            rank: self.rank,
            reason: "a thread panicked while it held MPI".into(),
        })?;
        Ok(f(&guard.1))
    }

    fn gather<T: Equivalence + Copy + Default>(
        &self,
        local: &[T],
        counts: &[usize],
    ) -> Result<Vec<T>> {
        super::check_counts(self.rank, self.size, local.len(), counts)?;
        let c: Vec<i32> = counts.iter().map(|&n| n as i32).collect();
        let d: Vec<i32> = c
            .iter()
            .scan(0i32, |at, &n| {
                let start = *at;
                *at += n;
                Some(start)
            })
            .collect();
        let mut out = vec![T::default(); counts.iter().sum()];
        self.with(|w| {
            let mut part = PartitionMut::new(&mut out[..], c, d);
            w.all_gather_varcount_into(local, &mut part);
        })?;
        Ok(out)
    }
}

impl Collective for Mpi {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_gather_f64(&self, local: &[f64], counts: &[usize]) -> Result<Vec<f64>> {
        self.gather(local, counts)
    }

    fn all_gather_f32(&self, local: &[f32], counts: &[usize]) -> Result<Vec<f32>> {
        self.gather(local, counts)
    }

    /// `MPI_Abort`: the launcher ends every rank.
    fn abort(&self, code: i32) -> ! {
        // The lock is not taken: the rank may be failing while another thread holds it.
        // SAFETY: MPI_Abort may be called from any thread; MPI_COMM_WORLD is valid
        // while MPI is initialised, as it is for the life of `self`.
        unsafe {
            mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, code);
        }
        std::process::exit(code)
    }

    fn broadcast(&self, bytes: &mut Vec<u8>, root: usize) -> Result<()> {
        self.with(|w| {
            let root = w.process_at_rank(root as i32);
            let mut len = bytes.len() as u64;
            root.broadcast_into(&mut len);
            bytes.resize(len as usize, 0);
            root.broadcast_into(&mut bytes[..]);
        })
    }
}
