//! The GPU code checked on the CPU. The engine's CUDA C is compiled as C++ for the host
//! with a shim (one block of one thread, so each kernel's grid-stride loop walks every
//! element in order), and cuBLAS is replaced by a column-major product written from
//! cuBLAS's definition (`C = α·op(A)·op(B) + β·C` with leading dimensions). Through them
//! run the same compositions the GPU runs (the convolutions over [`Columns`]) and the
//! same configurations it gives cuBLAS ([`gemm_config`], [`batched_config`]), against the
//! CPU's kernels. What this cannot check is the GPU itself: launch sizes, races between
//! threads, the reductions' shared memory; `parity.rs` does, on a GPU.

use super::kernels::modules;
use super::module::PRELUDE;
use super::{batched_config, gemm_config, Tr};
use crate::ops::conv2d::cuda::{Columns, Geo};
use crate::ops::weighted::Epilogue;
use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::GemmConfig;
use rrae_artifact::Geometry;
use std::path::Path;
use std::sync::OnceLock;

/// What makes CUDA C compile as host C++: one block of one thread.
const SHIM: &str = r#"
#include <math.h>
#include <cmath>
struct Dim3 { unsigned x, y, z; };
static const Dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static const Dim3 blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
#define __global__
#define __shared__ static
#define __syncthreads() ((void)0)
static unsigned atomicAdd(unsigned* p, unsigned v) { unsigned o = *p; *p += v; return o; }
using std::isfinite;
"#;

/// The kernels compiled for the host, once per test process.
fn host() -> &'static libloading::Library {
    static LIB: OnceLock<libloading::Library> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/cuda-emulate")
            .join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("a scratch folder"); // ok: test
        let src = dir.join("kernels.cpp");
        let mut text = format!("{SHIM}{PRELUDE}");
        for m in modules() {
            text.push_str(m.source);
        }
        std::fs::write(&src, text).expect("the source is written"); // ok: test
        let lib = dir.join("kernels.so");
        let out = std::process::Command::new("g++")
            .args(["-std=c++17", "-O1", "-shared", "-fPIC", "-o"])
            .arg(&lib)
            .arg(&src)
            .output()
            .expect("g++ runs"); // ok: test
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "the kernels do not compile as C++:\n{log}"
        );
        // SAFETY: the library just built from the engine's kernels.
        let opened = unsafe { libloading::Library::new(&lib) };
        let opened = opened.unwrap_or_else(|e| panic!("{}: {e}", lib.display())); // ok: test
        let _ = std::fs::remove_dir_all(&dir);
        opened
    })
}

/// Kernel `name` of the host library, as a function of type `F`.
pub(crate) fn kernel<F: Copy>(name: &str) -> F {
    // SAFETY: `F` is the kernel's C signature, written beside each use.
    let f = unsafe { host().get::<F>(name.as_bytes()) };
    *f.unwrap_or_else(|e| panic!("kernel {name}: {e}")) // ok: test
}

/// cuBLAS's sgemm by its definition: column-major `C = α·op(A)·op(B) + β·C`, `op(A)`
/// `m × k`, `op(B)` `k × n`, each read through its leading dimension.
fn sgemm(cfg: &GemmConfig<f32>, a: &[f32], b: &[f32], c: &mut [f32]) {
    let (m, n, k) = (cfg.m as usize, cfg.n as usize, cfg.k as usize);
    let (lda, ldb, ldc) = (cfg.lda as usize, cfg.ldb as usize, cfg.ldc as usize);
    let t = |op: cublasOperation_t| op == cublasOperation_t::CUBLAS_OP_T;
    let at = |i: usize, l: usize| {
        if t(cfg.transa) {
            a[l + i * lda]
        } else {
            a[i + l * lda]
        }
    };
    let bt = |l: usize, j: usize| {
        if t(cfg.transb) {
            b[j + l * ldb]
        } else {
            b[l + j * ldb]
        }
    };
    for j in 0..n {
        for i in 0..m {
            let s: f32 = (0..k).map(|l| at(i, l) * bt(l, j)).sum();
            let old = if cfg.beta == 0.0 {
                0.0
            } else {
                cfg.beta * c[i + j * ldc]
            };
            c[i + j * ldc] = cfg.alpha * s + old;
        }
    }
}

/// The row-major product the engine means.
fn row_major((m, k, n): (usize, usize, usize), a: &[f32], ta: Tr, b: &[f32], tb: Tr) -> Vec<f32> {
    let a_at = |i: usize, l: usize| {
        if ta == Tr::Yes {
            a[l * m + i]
        } else {
            a[i * k + l]
        }
    };
    let b_at = |l: usize, j: usize| {
        if tb == Tr::Yes {
            b[j * k + l]
        } else {
            b[l * n + j]
        }
    };
    (0..m * n)
        .map(|x| (0..k).map(|l| a_at(x / n, l) * b_at(l, x % n)).sum())
        .collect()
}

/// The host stand-in for the GPU's columns: the compiled kernels, and cuBLAS called as
/// `Cuda::gemm` and `Cuda::gemm_batched` call it (cuBLAS's first operand is our `b`).
struct Host;

type Im2col = unsafe extern "C" fn(*mut f32, *const f32, Geo, i64);
type BiasRelu = unsafe extern "C" fn(*mut f32, *const f32, i32, *mut bool, i32, i64, i64, i64);

impl Columns for Host {
    type Buf = Vec<f32>;
    type Mask = Vec<bool>;

    fn alloc(&self, n: usize) -> Vec<f32> {
        vec![f32::NAN; n]
    }

    fn zeros(&self, n: usize) -> Vec<f32> {
        vec![0.0; n]
    }

    fn len(b: &Vec<f32>) -> usize {
        b.len()
    }

    fn im2col(&self, geo: &Geometry, x: &Vec<f32>, batch: usize) -> Vec<f32> {
        let mut cols = self.alloc(batch * geo.col_rows() * geo.col_cols());
        let f: Im2col = kernel("im2col_f32");
        unsafe { f(cols.as_mut_ptr(), x.as_ptr(), Geo::of(geo), batch as i64) };
        cols
    }

    fn col2im(&self, geo: &Geometry, cols: &Vec<f32>, batch: usize) -> Vec<f32> {
        let mut x = self.alloc(batch * geo.big_len());
        let f: Im2col = kernel("col2im_f32");
        unsafe { f(x.as_mut_ptr(), cols.as_ptr(), Geo::of(geo), batch as i64) };
        x
    }

    fn finish(
        &self,
        y: &mut Vec<f32>,
        b: Option<&Vec<f32>>,
        (channels, plane): (usize, usize),
        epilogue: Epilogue,
        keep: bool,
    ) -> Option<Vec<bool>> {
        let relu = epilogue == Epilogue::Relu;
        let mut mask = (relu && keep).then(|| vec![false; y.len()]);
        let f: BiasRelu = kernel("bias_relu_f32");
        let bias = b.map_or(std::ptr::null(), |b| b.as_ptr());
        let m = mask
            .as_mut()
            .map_or(std::ptr::null_mut(), |m| m.as_mut_ptr());
        let n = y.len() as i64;
        let args = (
            b.is_some() as i32,
            relu as i32,
            channels as i64,
            plane.max(1) as i64,
        );
        unsafe { f(y.as_mut_ptr(), bias, args.0, m, args.1, args.2, args.3, n) };
        mask
    }

    fn apply_mask(&self, g: &mut Vec<f32>, mask: Option<&Vec<bool>>) {
        let Some(mask) = mask else { return };
        let f: unsafe extern "C" fn(*mut f32, *const bool, i64) = kernel("apply_mask_f32");
        unsafe { f(g.as_mut_ptr(), mask.as_ptr(), g.len() as i64) };
    }

    fn channel_sums(&self, g: &Vec<f32>, batch: usize, channels: usize) -> Vec<f32> {
        let plane = g.len() / (batch * channels).max(1);
        let mut db = self.alloc(channels);
        let f: unsafe extern "C" fn(*mut f32, *const f32, i64, i64, i64) =
            kernel("channel_sums_f32");
        unsafe {
            f(
                db.as_mut_ptr(),
                g.as_ptr(),
                batch as i64,
                channels as i64,
                plane as i64,
            )
        };
        db
    }

    fn products(
        &self,
        dims: (usize, usize, usize),
        (a, ta, sa): (&Vec<f32>, Tr, usize),
        (b, tb, sb): (&Vec<f32>, Tr, usize),
        (c, sc): (&mut Vec<f32>, usize),
        count: usize,
    ) {
        let cfg = batched_config(dims, (ta, tb), (sa, sb, sc), count);
        let (first, second) = (b, a);
        for i in 0..cfg.batch_size as usize {
            let at = |s: i64| i * s as usize;
            sgemm(
                &cfg.gemm,
                &first[at(cfg.stride_a)..],
                &second[at(cfg.stride_b)..],
                &mut c[at(cfg.stride_c)..],
            );
        }
    }

    fn product_at(
        &self,
        dims: (usize, usize, usize),
        (a, a_at, ta): (&Vec<f32>, usize, Tr),
        (b, b_at, tb): (&Vec<f32>, usize, Tr),
        c: &mut Vec<f32>,
        accumulate: bool,
    ) {
        sgemm(
            &gemm_config(dims, ta, tb, accumulate),
            &b[b_at..],
            &a[a_at..],
            c,
        );
    }

    fn fail(&self, what: &str, why: &str) {
        panic!("{what}: {why}"); // ok: test
    }
}

#[cfg(test)]
mod tests;
