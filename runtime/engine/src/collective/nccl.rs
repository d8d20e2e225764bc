//! The collective over NCCL, for `--device cuda` ranks: the latents and gradients cross
//! between GPUs through NCCL (NVLink, PCIe, InfiniBand with GPUDirect), the ranks' small
//! control messages (the unique id, the agreement on the model file) through the host
//! collective the ranks were started with (MPI).
//!
//! The sums are the same as every other implementation's: NCCL gathers every rank's
//! vector and the host adds them in rank order. `ncclAllReduce` would add on the device,
//! but in an order its algorithm picks (ring or tree, by size and topology), so a run
//! would not be the same bits over NCCL as over MPI, nor from one cluster to the next.
//!
//! Built in every configuration (cudarc opens `libnccl` at run time). cudarc looks for
//! `libnccl.so` and `libnccl.so.13`, …, but the PyPI wheel `nvidia-nccl-cu13` (and so a
//! PyTorch environment) ships `libnccl.so.2`: [`library`] says so and how to link it,
//! rather than cudarc's panic on the first call.

use super::Collective;
use crate::error::{EngineError, Result};
use cudarc::driver::{CudaContext, CudaStream};
use cudarc::nccl::{Comm, Id, NcclType};
use std::sync::{Arc, Mutex};

/// This process's rank in the NCCL communicator of its job.
pub struct Nccl {
    rank: usize,
    size: usize,
    /// The collective the ranks were started with: the id's broadcast and `abort`.
    host: Arc<dyn Collective>,
    comm: Mutex<(Comm, Arc<CudaStream>)>,
}

// SAFETY: a communicator may be used from any thread as long as no two calls on it
// overlap; every use below holds `comm`'s lock, and binds the device's context to the
// calling thread first.
unsafe impl Send for Nccl {}
// SAFETY: as above: `&Nccl` reaches the communicator only through the lock.
unsafe impl Sync for Nccl {}

impl std::fmt::Debug for Nccl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nccl {{ rank: {}, size: {} }}", self.rank, self.size)
    }
}

/// `Ok(())` when cudarc can open NCCL's library; otherwise what was looked for and
/// how to make the wheel's `libnccl.so.2` visible under a name cudarc opens.
pub fn library() -> std::result::Result<(), String> {
    crate::device::cuda::probe::libraries()?;
    // SAFETY: only tries `dlopen` on cudarc's candidate names; nothing is called.
    if unsafe { cudarc::nccl::sys::is_culib_present() } {
        return Ok(());
    }
    Err(
        "NCCL's library was not found (looked for libnccl.so, libnccl.so.13, … on the library search path). \
         The PyPI wheel nvidia-nccl-cu13 installs libnccl.so.2, a name cudarc does not open: \
         link it as libnccl.so in a folder of LD_LIBRARY_PATH (`bench/nccl_lib.sh` does, and prints the folder)"
            .into(),
    )
}

impl Nccl {
    /// Joins the NCCL communicator of the ranks `host` connects, on CUDA device
    /// `ordinal`: rank 0 makes the unique id and `host` broadcasts it. Every rank must
    /// call this at the same point.
    pub fn join(host: Arc<dyn Collective>, ordinal: usize) -> Result<Nccl> {
        let (rank, size) = (host.rank(), host.size());
        let fail = |reason: String| EngineError::Collective { rank, reason };
        // Every rank learns whether every other found the library, so none waits in
        // the broadcast below for one that gave up.
        let found = library();
        let flags = host.all_gather_f64(&[f64::from(u8::from(found.is_ok()))], &vec![1; size])?;
        if let Err(reason) = found {
            return Err(fail(reason));
        }
        if let Some(r) = flags.iter().position(|&f| f == 0.0) {
            return Err(fail(format!("rank {r} has no NCCL library")));
        }
        let mut id = if rank == 0 {
            let id = Id::new().map_err(|e| fail(format!("ncclGetUniqueId: {e:?}")))?;
            id.internal().iter().map(|&c| c as u8).collect()
        } else {
            vec![]
        };
        host.broadcast(&mut id, 0)?;
        let mut internal = [0 as std::ffi::c_char; 128];
        if id.len() != internal.len() {
            return Err(fail(format!(
                "received an NCCL id of {} bytes, not 128",
                id.len()
            )));
        }
        for (d, &b) in internal.iter_mut().zip(&id) {
            *d = b as std::ffi::c_char;
        }
        let ctx = CudaContext::new(ordinal).map_err(|e| fail(format!("cuda:{ordinal}: {e}")))?;
        let stream = ctx.default_stream();
        let comm = Comm::from_rank(stream.clone(), rank, size, Id::uninit(internal))
            .map_err(|e| fail(format!("ncclCommInitRank: {e:?}")))?;
        Ok(Nccl {
            rank,
            size,
            host,
            comm: Mutex::new((comm, stream)),
        })
    }

    /// Every rank's `local` (`counts[r]` values from rank r), in rank order. NCCL's
    /// all-gather takes the same count from every rank, so each part is padded to the
    /// largest and the padding dropped after.
    fn gather<T>(&self, local: &[T], counts: &[usize]) -> Result<Vec<T>>
    where
        T: NcclType + cudarc::driver::DeviceRepr + cudarc::driver::ValidAsZeroBits + Copy + Default,
    {
        let fail = |reason: String| EngineError::Collective {
            rank: self.rank,
            reason,
        };
        super::check_counts(self.rank, self.size, local.len(), counts)?;
        let most = counts.iter().copied().max().unwrap_or(0);
        if most == 0 {
            return Ok(vec![]);
        }
        let mut padded = local.to_vec();
        padded.resize(most, T::default());
        let guard = self
            .comm
            .lock()
            .map_err(|_| fail("a thread panicked while it held NCCL".into()))?;
        let (comm, stream) = &*guard;
        let cuda = |e: cudarc::driver::DriverError| fail(format!("CUDA: {e}"));
        stream.context().bind_to_thread().map_err(cuda)?;
        let send = stream.clone_htod(&padded).map_err(cuda)?;
        let mut recv = stream.alloc_zeros::<T>(most * self.size).map_err(cuda)?;
        comm.all_gather(&send, &mut recv)
            .map_err(|e| fail(format!("ncclAllGather: {e:?}")))?;
        let all = stream.clone_dtoh(&recv).map_err(cuda)?;
        Ok(all
            .chunks(most)
            .zip(counts)
            .flat_map(|(part, &n)| part[..n].iter().copied())
            .collect())
    }
}

impl Collective for Nccl {
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

    /// Control bytes (the model's hash, the controller's decisions) go over the host
    /// collective: they are small and live on the host.
    fn broadcast(&self, bytes: &mut Vec<u8>, root: usize) -> Result<()> {
        self.host.broadcast(bytes, root)
    }

    fn abort(&self, code: i32) -> ! {
        self.host.abort(code)
    }
}
