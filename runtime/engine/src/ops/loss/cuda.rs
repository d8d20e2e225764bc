//! The losses on the GPU: the residual is formed in f64 on the device and its sums
//! reduced in f64 (fixed blocks, partial sums added on the host in block order, so the
//! value does not depend on scheduling). The cross-entropy (the local classifier's,
//! a few thousand logits) runs on the host.

use crate::device::cuda::module::Module;
use crate::device::{Cpu, Cuda, Device};
use crate::ops::loss::LossKernel;
use cudarc::driver::{CudaSlice, PushKernelArg};
use rrae_lang::ir::Loss;

/// Blocks of the reductions: partial sums the host adds.
const BLOCKS: usize = 120;
const THREADS: u32 = 256;

pub const MODULE: Module = Module {
    op: "loss",
    source: r#"
extern "C" __global__ void residual_f64(double* d, const float* p, const float* t, i64 n) {
    FOR_EACH(i, n) { d[i] = (double)p[i] - (double)t[i]; }
}
// partial[block] = Σ over the block's stride of a[i]² (f64 input) and of t[i]² (f32).
extern "C" __global__ void sum_squares(double* partial, const double* a, const float* t, i64 n) {
    __shared__ double s[256];
    double acc = 0.0;
    FOR_EACH(i, n) {
        double v = a ? a[i] : (double)t[i];
        acc += v * v;
    }
    s[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = s[0];
}
"#,
    functions: &["residual_f64", "sum_squares"],
};

/// The residual and the factor the backward scales it by.
pub struct Residual {
    d: CudaSlice<f64>,
    dscale: f64,
}

impl Cuda {
    /// `Σ v²` of an f64 buffer (`a`) or an f32 one (`t`), in f64.
    fn sum_squares(&self, a: Option<&CudaSlice<f64>>, t: Option<&CudaSlice<f32>>, n: usize) -> f64 {
        let mut partial = self.alloc_zeros::<f64>(BLOCKS);
        let (null, n) = (0u64, n as i64);
        if let Some(f) = self.kernel(&MODULE, "sum_squares") {
            let mut l = self.launcher(&f);
            l.arg(&mut partial);
            match a {
                Some(a) => l.arg(a),
                None => l.arg(&null),
            };
            match t {
                Some(t) => l.arg(t),
                None => l.arg(&null),
            };
            l.arg(&n);
            self.go_rows(l, BLOCKS, THREADS);
        }
        self.download(&partial).iter().sum()
    }
}

impl LossKernel<f32> for Cuda {
    type Saved = Residual;
    type SavedCe = Vec<f32>;

    fn loss_forward(&self, kind: Loss, p: &CudaSlice<f32>, t: &CudaSlice<f32>) -> (f64, Residual) {
        let count = p.len();
        let mut d = self.alloc::<f64>(count);
        let n = count as i64;
        if let Some(f) = self.kernel(&MODULE, "residual_f64") {
            let mut l = self.launcher(&f);
            l.arg(&mut d).arg(p).arg(t).arg(&n);
            self.go(l, count);
        }
        let sq = self.sum_squares(Some(&d), None, count);
        let norm = || self.sum_squares(None, Some(t), count).sqrt();
        let (value, dscale) = super::value_and_scale(kind, sq, norm, count as f64);
        (value, Residual { d, dscale })
    }

    fn loss_backward(&self, saved: &Residual, g: f64) -> CudaSlice<f32> {
        self.scaled_f32(&saved.d, g * saved.dscale)
    }

    fn cross_entropy_forward(
        &self,
        v: &CudaSlice<f32>,
        c: usize,
        labels: &[usize],
    ) -> (f64, Vec<f32>) {
        Cpu.cross_entropy_forward(&self.to_host(v), c, labels)
    }

    fn cross_entropy_backward(&self, d: &Vec<f32>, g: f32) -> CudaSlice<f32> {
        let scaled: Vec<f32> = d.iter().map(|v| *v * g).collect();
        self.upload(&scaled)
    }
}
