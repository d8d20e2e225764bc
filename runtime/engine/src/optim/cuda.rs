//! The optimiser update on the GPU: the CPU's loops, one thread per element, so the
//! parameters and both moments never leave the device.

use super::{OptimizerKernel, Update};
use crate::device::cuda::module::Module;
use crate::device::Cuda;
use cudarc::driver::{CudaSlice, PushKernelArg};

pub const MODULE: Module = Module {
    op: "optim",
    source: r#"
extern "C" __global__ void adam_f32(float* p, const float* g, float* m, float* v, float b1,
                                    float b2, float step, float c2s, float eps, i64 n) {
    FOR_EACH(j, n) {
        m[j] = b1 * m[j] + (1.0f - b1) * g[j];
        v[j] = b2 * v[j] + (1.0f - b2) * g[j] * g[j];
        p[j] -= step * m[j] / (sqrtf(v[j]) / c2s + eps);
    }
}
extern "C" __global__ void adabelief_f32(float* p, const float* g, float* m, float* v, float b1,
                                         float b2, float step, float c2s, float eps,
                                         float eps_root, i64 n) {
    FOR_EACH(j, n) {
        m[j] = b1 * m[j] + (1.0f - b1) * g[j];
        float e = g[j] - m[j];
        v[j] = b2 * v[j] + (1.0f - b2) * e * e + eps_root;
        p[j] -= step * m[j] / (sqrtf(v[j]) / c2s + eps);
    }
}
extern "C" __global__ void sgd_f32(float* p, const float* g, float* m, float mu, float lr,
                                   int first, i64 n) {
    FOR_EACH(j, n) {
        m[j] = first ? g[j] : mu * m[j] + g[j];
        p[j] -= lr * m[j];
    }
}
extern "C" __global__ void count_non_finite(unsigned int* count, const float* x, i64 n) {
    FOR_EACH(i, n) { if (!isfinite(x[i])) atomicAdd(count, 1u); }
}
"#,
    functions: &["adam_f32", "adabelief_f32", "sgd_f32", "count_non_finite"],
};

impl OptimizerKernel for Cuda {
    fn optimizer_update(
        &self,
        u: Update,
        p: &mut CudaSlice<f32>,
        g: &CudaSlice<f32>,
        m: &mut CudaSlice<f32>,
        v: &mut CudaSlice<f32>,
    ) {
        let n = p.len() as i64;
        match u {
            Update::Adam {
                b1,
                b2,
                step,
                c2s,
                eps,
            } => {
                if let Some(f) = self.kernel(&MODULE, "adam_f32") {
                    let mut l = self.launcher(&f);
                    l.arg(&mut *p).arg(g).arg(&mut *m).arg(&mut *v);
                    l.arg(&b1).arg(&b2).arg(&step).arg(&c2s).arg(&eps).arg(&n);
                    self.go(l, n as usize);
                }
            }
            Update::AdaBelief {
                b1,
                b2,
                step,
                c2s,
                eps,
                eps_root,
            } => {
                if let Some(f) = self.kernel(&MODULE, "adabelief_f32") {
                    let mut l = self.launcher(&f);
                    l.arg(&mut *p).arg(g).arg(&mut *m).arg(&mut *v);
                    l.arg(&b1)
                        .arg(&b2)
                        .arg(&step)
                        .arg(&c2s)
                        .arg(&eps)
                        .arg(&eps_root);
                    l.arg(&n);
                    self.go(l, n as usize);
                }
            }
            Update::Sgd { mu, lr, first } => {
                let first = first as i32;
                if let Some(f) = self.kernel(&MODULE, "sgd_f32") {
                    let mut l = self.launcher(&f);
                    l.arg(&mut *p)
                        .arg(g)
                        .arg(&mut *m)
                        .arg(&mu)
                        .arg(&lr)
                        .arg(&first)
                        .arg(&n);
                    self.go(l, n as usize);
                }
            }
        }
    }

    fn all_finite(&self, x: &CudaSlice<f32>) -> bool {
        self.first_non_finite(&[x]).is_none()
    }

    fn first_non_finite(&self, xs: &[&CudaSlice<f32>]) -> Option<usize> {
        let mut counts = self.alloc_zeros::<u32>(xs.len());
        for (i, x) in xs.iter().enumerate() {
            let n = x.len() as i64;
            let mut count = counts.slice_mut(i..i + 1);
            if let Some(f) = self.kernel(&MODULE, "count_non_finite") {
                let mut l = self.launcher(&f);
                l.arg(&mut count).arg(*x).arg(&n);
                self.go(l, n as usize);
            }
        }
        let mut host = vec![0u32; xs.len()];
        if !self.failed() {
            if let Err(e) = self.stream().memcpy_dtoh(&counts, &mut host) {
                self.fail("copying from the GPU", e);
            }
        }
        host.iter().position(|&c| c > 0)
    }
}
