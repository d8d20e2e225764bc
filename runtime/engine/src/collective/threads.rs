//! Ranks as threads of one process: what the tests use to run the distributed step
//! with 2 or 3 ranks and compare it with the single-process step, without MPI. The
//! exchange goes through shared slots and a barrier, with MPI's semantics: every rank
//! calls the same operations in the same order.

use super::Collective;
use crate::error::{EngineError, Result};
use std::sync::{Arc, Barrier, Mutex};

#[derive(Debug)]
struct Shared {
    barrier: Barrier,
    slots: Mutex<Vec<Vec<u8>>>,
}

/// One rank of a group of threads ([`Threads::group`]).
#[derive(Debug, Clone)]
pub struct Threads {
    rank: usize,
    size: usize,
    shared: Arc<Shared>,
}

impl Threads {
    /// `size` ranks, one per thread that will use it.
    pub fn group(size: usize) -> Vec<Threads> {
        let size = size.max(1);
        let shared = Arc::new(Shared {
            barrier: Barrier::new(size),
            slots: Mutex::new(vec![vec![]; size]),
        });
        (0..size)
            .map(|rank| Threads {
                rank,
                size,
                shared: shared.clone(),
            })
            .collect()
    }

    /// Every rank's `mine`, in rank order: write, wait for all, read, wait again (so no
    /// rank overwrites its slot before every rank has read it).
    fn exchange(&self, mine: Vec<u8>) -> Result<Vec<Vec<u8>>> {
        let poisoned = || EngineError::Collective {
            rank: self.rank,
            reason: "another rank's thread panicked".into(),
        };
        self.shared.slots.lock().map_err(|_| poisoned())?[self.rank] = mine;
        self.shared.barrier.wait();
        let all = self.shared.slots.lock().map_err(|_| poisoned())?.clone();
        self.shared.barrier.wait();
        Ok(all)
    }

    fn gather<T: Copy>(
        &self,
        local: &[T],
        counts: &[usize],
        to: fn(&[T]) -> Vec<u8>,
        from: fn(&[u8]) -> Vec<T>,
    ) -> Result<Vec<T>> {
        // Exchange first and check after, so that every rank sees the same mismatch
        // and fails alike (a rank that returned early would leave the others waiting).
        let parts: Vec<Vec<T>> = self.exchange(to(local))?.iter().map(|b| from(b)).collect();
        for (r, part) in parts.iter().enumerate() {
            if counts.get(r) != Some(&part.len()) {
                return Err(EngineError::Collective {
                    rank: r,
                    reason: format!(
                        "gave {} values where the counts say {:?}",
                        part.len(),
                        counts.get(r)
                    ),
                });
            }
        }
        Ok(parts.concat())
    }
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f64_values(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect()
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32_values(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Collective for Threads {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_gather_f64(&self, local: &[f64], counts: &[usize]) -> Result<Vec<f64>> {
        self.gather(local, counts, f64_bytes, f64_values)
    }

    fn all_gather_f32(&self, local: &[f32], counts: &[usize]) -> Result<Vec<f32>> {
        self.gather(local, counts, f32_bytes, f32_values)
    }

    fn broadcast(&self, bytes: &mut Vec<u8>, root: usize) -> Result<()> {
        let all = self.exchange(std::mem::take(bytes))?;
        *bytes = all.get(root).cloned().unwrap_or_default();
        Ok(())
    }

    /// Threads of one process cannot end only theirs: the whole process ends.
    fn abort(&self, code: i32) -> ! {
        std::process::exit(code)
    }
}
