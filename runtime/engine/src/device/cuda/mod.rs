//! The CUDA device, on cudarc with dynamic loading: nothing is linked at build time, so
//! every machine builds it, and one without a driver says so when a run asks for it
//! ([`probe`]).
//!
//! Buffers are `CudaSlice`s from the driver's stream-ordered pool, whose release
//! threshold is raised so that a buffer freed by one step is the next step's without a
//! call into the driver. Everything runs on one stream in order, so cudarc's per-buffer
//! event tracking is switched off. Products go to cuBLAS; every other kernel is CUDA C
//! beside its op (`ops/<op>/cuda.rs`), compiled by NVRTC for the device's architecture
//! when the op first runs ([`module`]).
//!
//! Kernels return buffers, not results ([`Device`] is the CPU's shape too), so a failed
//! allocation or launch is recorded, the kernels after it are skipped, and the trainer
//! reads [`Device::failure`] after each step.

#[cfg(test)]
pub(crate) mod emulate;
#[cfg(test)]
mod kernels;
pub mod module;
#[cfg(test)]
mod parity;
pub mod probe;

use super::{Device, Element};
use cudarc::cublas::{sys::cublasOperation_t, CudaBlas, Gemm, GemmConfig, StridedBatchedConfig};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DevicePtr, DevicePtrMut, DeviceRepr,
    LaunchArgs, LaunchConfig, PushKernelArg, ValidAsZeroBits,
};
use module::Module;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use crate::ops::gemm::Tr;

/// One CUDA GPU: its context, its stream, cuBLAS on that stream and the compiled kernels.
#[derive(Clone)]
pub struct Cuda {
    inner: Arc<Inner>,
}

struct Inner {
    label: String,
    /// The driver's number for this GPU (`cuda:N`).
    ordinal: usize,
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    /// `compute_90` for an H100: what NVRTC compiles the modules for.
    arch: String,
    /// The kernels of every module compiled so far, by name.
    functions: Mutex<HashMap<&'static str, CudaFunction>>,
    failure: Mutex<Option<String>>,
}

impl std::fmt::Debug for Cuda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cuda({})", self.inner.label)
    }
}

impl Cuda {
    /// Opens GPU `ordinal` and compiles every kernel for it. The libraries are looked
    /// for first, so a missing one is an error here, not a panic in cudarc.
    pub fn new(ordinal: usize) -> Result<Cuda, String> {
        probe::libraries()?;
        let ctx =
            CudaContext::new(ordinal).map_err(|e| format!("cannot open cuda:{ordinal}: {e}"))?;
        // SAFETY: rrae uses one stream per device, so the stream's order is the only
        // synchronisation buffers need.
        unsafe { ctx.disable_event_tracking() };
        keep_freed_memory(&ctx);
        let stream = ctx.default_stream();
        let blas = CudaBlas::new(stream.clone()).map_err(|e| format!("cuBLAS: {e}"))?;
        let name = ctx.name().unwrap_or_else(|_| "unnamed GPU".into());
        let (major, minor) = ctx
            .compute_capability()
            .map_err(|e| format!("cannot read the compute capability of {name}: {e}"))?;
        let dev = Cuda {
            inner: Arc::new(Inner {
                label: format!("cuda:{ordinal} ({name}, sm_{major}{minor})"),
                ordinal,
                ctx,
                stream,
                blas,
                arch: format!("compute_{major}{minor}"),
                functions: Mutex::new(HashMap::new()),
                failure: Mutex::new(None),
            }),
        };
        dev.smoke_test()?;
        Ok(dev)
    }

    /// The driver's number for this GPU: where a rank's NCCL communicator lives.
    pub fn ordinal(&self) -> usize {
        self.inner.ordinal
    }

    /// Compiles, loads and runs [`module::SMOKE`] and reads its result back.
    fn smoke_test(&self) -> Result<(), String> {
        let mut x = self.alloc_zeros::<f32>(4);
        let n = 4i64;
        if let Some(f) = self.kernel(&module::SMOKE, "rrae_smoke") {
            let mut l = self.launcher(&f);
            l.arg(&mut x).arg(&n);
            self.go(l, 4);
        }
        let got = self.download(&x);
        match self.failure() {
            Some(e) => Err(format!(
                "{} cannot run rrae's kernels: {e}",
                self.inner.label
            )),
            None if got != [0.0, 1.0, 2.0, 3.0] => Err(format!(
                "{} ran the smoke-test kernel and returned {got:?}",
                self.inner.label
            )),
            None => Ok(()),
        }
    }

    pub(crate) fn stream(&self) -> &Arc<CudaStream> {
        &self.inner.stream
    }

    /// Records the first failure; later ones follow from it and are dropped.
    pub(crate) fn fail(&self, what: &str, e: impl std::fmt::Display) {
        if let Ok(mut slot) = self.inner.failure.lock() {
            slot.get_or_insert_with(|| format!("{what}: {e}"));
        }
    }

    pub(crate) fn failed(&self) -> bool {
        self.inner.failure.lock().map_or(true, |f| f.is_some())
    }

    /// `n` elements of uninitialised device memory (every kernel that asks writes all
    /// of them); an empty buffer after a failure.
    pub(crate) fn alloc<E: DeviceRepr>(&self, n: usize) -> CudaSlice<E> {
        if !self.failed() {
            // SAFETY: callers write every element before reading any.
            match unsafe { self.inner.stream.alloc::<E>(n) } {
                Ok(b) => return b,
                Err(e) => self.fail(&format!("allocating {n} elements"), e),
            }
        }
        self.empty()
    }

    /// `n` zeros; an empty buffer after a failure.
    pub(crate) fn alloc_zeros<E: DeviceRepr + ValidAsZeroBits>(&self, n: usize) -> CudaSlice<E> {
        if !self.failed() {
            match self.inner.stream.alloc_zeros::<E>(n) {
                Ok(b) => return b,
                Err(e) => self.fail(&format!("allocating {n} zeros"), e),
            }
        }
        self.empty()
    }

    /// The stand-in a kernel returns once the device has failed. If even an empty
    /// allocation fails the context is gone, and there is nothing to return.
    fn empty<E>(&self) -> CudaSlice<E> {
        match self.inner.stream.null::<E>() {
            Ok(b) => b,
            Err(e) => panic!("{}: the CUDA context died: {e}", self.inner.label), // ok: no input does this
        }
    }

    /// Kernel `name` of module `m`, compiling and loading `m` the first time; `None`
    /// once the device has failed (or if this failed it: the failure says why).
    pub(crate) fn kernel(&self, m: &Module, name: &'static str) -> Option<CudaFunction> {
        if self.failed() {
            return None;
        }
        let mut functions = self.inner.functions.lock().ok()?;
        if !functions.contains_key(name) {
            if let Err(e) = self.load(m, &mut functions) {
                drop(functions);
                self.fail(&format!("the {} kernels", m.op), e);
                return None;
            }
        }
        let f = functions.get(name).cloned();
        if f.is_none() {
            drop(functions);
            self.fail(name, format!("no such kernel in the {} module", m.op));
        }
        f
    }

    fn load(
        &self,
        m: &Module,
        into: &mut HashMap<&'static str, CudaFunction>,
    ) -> Result<(), String> {
        let ptx = module::compile(m.source, Some(self.inner.arch.clone()))
            .map_err(|e| format!("NVRTC could not compile them: {e}"))?;
        let loaded = self.inner.ctx.load_module(ptx).map_err(|e| e.to_string())?;
        for f in m.functions {
            into.insert(
                *f,
                loaded.load_function(f).map_err(|e| format!("{f}: {e}"))?,
            );
        }
        Ok(())
    }

    /// A launch of `f` on the device's stream: push the arguments, then [`Cuda::go`].
    pub(crate) fn launcher<'a>(&'a self, f: &'a CudaFunction) -> LaunchArgs<'a> {
        self.inner.stream.launch_builder(f)
    }

    /// Launches `b` over `n` threads (a grid-stride loop covers any more).
    pub(crate) fn go(&self, mut b: LaunchArgs<'_>, n: usize) {
        // SAFETY: every kernel checks its index against the element count it is given,
        // and the callers pass buffers of the lengths the kernel reads.
        if let Err(e) = unsafe { b.launch(grid(n)) } {
            self.fail("a kernel launch", e);
        }
    }

    /// Launches `b` with one block of `threads` threads per row, `rows` rows.
    pub(crate) fn go_rows(&self, mut b: LaunchArgs<'_>, rows: usize, threads: u32) {
        let cfg = LaunchConfig {
            grid_dim: (rows.clamp(1, 65_535 * 1024) as u32, 1, 1),
            block_dim: (threads, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: as in `go`.
        if let Err(e) = unsafe { b.launch(cfg) } {
            self.fail("a kernel launch", e);
        }
    }

    /// Row-major `c = op(a)·op(b)` (`+ c` when `accumulate`), `op(a)` `m × k`, `op(b)`
    /// `k × n`, as cuBLAS's column-major `cᵀ = op(b)ᵀ·op(a)ᵀ`: a row-major matrix is
    /// its transpose in column-major order, so no data moves.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gemm<A: DevicePtr<f32>, B: DevicePtr<f32>, C: DevicePtrMut<f32>>(
        &self,
        (m, k, n): (usize, usize, usize),
        a: &A,
        ta: Tr,
        b: &B,
        tb: Tr,
        c: &mut C,
        accumulate: bool,
    ) {
        if self.failed() || m == 0 || n == 0 || !self.bound() {
            return;
        }
        let cfg = gemm_config((m, k, n), ta, tb, accumulate);
        // SAFETY: the callers pass buffers of at least m·k, k·n and m·n elements.
        if let Err(e) = unsafe { self.inner.blas.gemm(cfg, b, a, c) } {
            self.fail("cuBLAS sgemm", e);
        }
    }

    /// [`Cuda::gemm`] for `count` independent products, `a`, `b` and `c` each
    /// `stride_*` elements apart (0 repeats one operand for every product).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gemm_batched<A: DevicePtr<f32>, B: DevicePtr<f32>, C: DevicePtrMut<f32>>(
        &self,
        (m, k, n): (usize, usize, usize),
        (a, ta, stride_a): (&A, Tr, usize),
        (b, tb, stride_b): (&B, Tr, usize),
        (c, stride_c): (&mut C, usize),
        count: usize,
    ) {
        if self.failed() || m == 0 || n == 0 || count == 0 || !self.bound() {
            return;
        }
        let cfg = batched_config((m, k, n), (ta, tb), (stride_a, stride_b, stride_c), count);
        // SAFETY: as in `gemm`, for every product of the batch.
        if let Err(e) = unsafe { self.inner.blas.gemm_strided_batched(cfg, b, a, c) } {
            self.fail("cuBLAS strided batched sgemm", e);
        }
    }

    /// A host copy of `b` in the CPU's buffers: the ops that run the CPU's kernel on
    /// small tensors (the SVD, the penalties, the learned basis) read it.
    pub(crate) fn to_host(&self, b: &CudaSlice<f32>) -> crate::pool::Buf<f32> {
        super::Cpu.upload(&self.download(b))
    }

    /// Makes the device's context this thread's, as cudarc's own calls do; cuBLAS's
    /// calls do not, and a run's steps may start on a thread that has made no other.
    fn bound(&self) -> bool {
        match self.inner.ctx.bind_to_thread() {
            Ok(()) => true,
            Err(e) => {
                self.fail("binding the CUDA context to this thread", e);
                false
            }
        }
    }
}

/// The column-major call for row-major `(m, k, n)`: cuBLAS's first operand is `op(b)ᵀ`
/// (`n × k`), its second `op(a)ᵀ` (`k × m`), its output `cᵀ` (`n × m`, leading
/// dimension `n`).
pub(crate) fn gemm_config(
    (m, k, n): (usize, usize, usize),
    ta: Tr,
    tb: Tr,
    acc: bool,
) -> GemmConfig<f32> {
    let (op_b, ld_b) = match tb {
        Tr::No => (cublasOperation_t::CUBLAS_OP_N, n),
        Tr::Yes => (cublasOperation_t::CUBLAS_OP_T, k),
    };
    let (op_a, ld_a) = match ta {
        Tr::No => (cublasOperation_t::CUBLAS_OP_N, k),
        Tr::Yes => (cublasOperation_t::CUBLAS_OP_T, m),
    };
    GemmConfig {
        transa: op_b,
        transb: op_a,
        m: n as i32,
        n: m as i32,
        k: k as i32,
        alpha: 1.0,
        lda: ld_b.max(1) as i32,
        ldb: ld_a.max(1) as i32,
        beta: if acc { 1.0 } else { 0.0 },
        ldc: n.max(1) as i32,
    }
}

/// [`gemm_config`] for `count` products; cuBLAS's first operand is our `b`, so the
/// strides swap too.
pub(crate) fn batched_config(
    dims: (usize, usize, usize),
    (ta, tb): (Tr, Tr),
    (stride_a, stride_b, stride_c): (usize, usize, usize),
    count: usize,
) -> StridedBatchedConfig<f32> {
    StridedBatchedConfig {
        gemm: gemm_config(dims, ta, tb, false),
        batch_size: count as i32,
        stride_a: stride_b as i64,
        stride_b: stride_a as i64,
        stride_c: stride_c as i64,
    }
}

/// 256 threads a block, enough blocks for `n` threads, capped (the kernels loop).
fn grid(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(256).clamp(1, 1 << 16) as u32;
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Raises the default memory pool's release threshold, so that memory freed at a
/// synchronisation stays in the pool for the next step. Failing to is only slower.
fn keep_freed_memory(ctx: &CudaContext) {
    use cudarc::driver::sys;
    // SAFETY: plain driver calls on the device the context was just made for.
    unsafe {
        let mut pool: sys::CUmemoryPool = std::ptr::null_mut();
        if sys::cuDeviceGetDefaultMemPool(&mut pool, ctx.cu_device()) == sys::CUresult::CUDA_SUCCESS
        {
            let mut threshold = u64::MAX;
            sys::cuMemPoolSetAttribute(
                pool,
                sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                (&mut threshold as *mut u64).cast(),
            );
        }
    }
}

impl Device for Cuda {
    type Buf<E: Element> = CudaSlice<E>;

    fn name(&self) -> String {
        self.inner.label.clone()
    }

    fn len<E: Element>(buf: &CudaSlice<E>) -> usize {
        buf.len()
    }

    fn upload<E: Element>(&self, host: &[E]) -> CudaSlice<E> {
        if !self.failed() {
            match self.inner.stream.clone_htod(host) {
                Ok(b) => return b,
                Err(e) => self.fail(&format!("copying {} elements to the GPU", host.len()), e),
            }
        }
        self.empty()
    }

    fn download<E: Element>(&self, buf: &CudaSlice<E>) -> Vec<E> {
        let mut host = vec![E::default(); buf.len()];
        self.download_into(buf, &mut host);
        host
    }

    fn download_into<E: Element>(&self, buf: &CudaSlice<E>, host: &mut [E]) {
        if self.failed() {
            return;
        }
        if buf.len() != host.len() {
            let lengths = format!("{} elements into {}", buf.len(), host.len());
            return self.fail("copying from the GPU", lengths);
        }
        if let Err(e) = self.inner.stream.memcpy_dtoh(buf, host) {
            self.fail("copying from the GPU", e);
        }
    }

    /// Free memory as the driver reports it for this context.
    fn memory_available(&self) -> Option<u64> {
        self.inner
            .ctx
            .mem_get_info()
            .ok()
            .map(|(free, _)| free as u64)
    }

    fn failure(&self) -> Option<String> {
        self.inner.failure.lock().ok().and_then(|f| f.clone())
    }

    /// Waits for the stream; a failure of anything queued on it is recorded.
    fn synchronize(&self) {
        if let Err(e) = self.inner.stream.synchronize() {
            self.fail("the CUDA stream", e);
        }
    }
}

/// The compiler's check that the GPU has every kernel a model and its training need.
const _: fn() = || {
    fn backend<D: crate::backend::Backend<f32> + crate::optim::OptimizerKernel>() {}
    backend::<Cuda>();
};
