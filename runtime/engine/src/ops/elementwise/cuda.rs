//! The tape's element-wise arithmetic on the GPU.

use crate::device::cuda::module::Module;
use crate::device::{Cuda, Device};
use crate::tape::TapeKernel;
use cudarc::driver::{CudaSlice, PushKernelArg};

pub const MODULE: Module = Module {
    op: "elementwise",
    source: r#"
extern "C" __global__ void add_f32(float* out, const float* a, const float* b, i64 n) {
    FOR_EACH(i, n) { out[i] = a[i] + b[i]; }
}
extern "C" __global__ void add_assign_f32(float* acc, const float* delta, i64 n) {
    FOR_EACH(i, n) { acc[i] += delta[i]; }
}
extern "C" __global__ void scale_f64_to_f32(float* out, const double* d, double s, i64 n) {
    FOR_EACH(i, n) { out[i] = (float)(s * d[i]); }
}
"#,
    functions: &["add_f32", "add_assign_f32", "scale_f64_to_f32"],
};

impl TapeKernel<f32> for Cuda {
    fn zeros(&self, n: usize) -> CudaSlice<f32> {
        self.alloc_zeros(n)
    }

    fn copy(&self, x: &CudaSlice<f32>) -> CudaSlice<f32> {
        let mut out = self.alloc::<f32>(Cuda::len(x));
        if !self.failed() {
            if let Err(e) = self.stream().memcpy_dtod(x, &mut out) {
                self.fail("a copy on the GPU", e);
            }
        }
        out
    }

    fn add_assign(&self, acc: &mut CudaSlice<f32>, delta: &CudaSlice<f32>) {
        let n = acc.len() as i64;
        if let Some(f) = self.kernel(&MODULE, "add_assign_f32") {
            let mut b = self.launcher(&f);
            b.arg(&mut *acc).arg(delta).arg(&n);
            self.go(b, n as usize);
        }
    }

    fn add(&self, a: &CudaSlice<f32>, b: &CudaSlice<f32>) -> CudaSlice<f32> {
        let n = a.len() as i64;
        let mut out = self.alloc::<f32>(a.len());
        if let Some(f) = self.kernel(&MODULE, "add_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut out).arg(a).arg(b).arg(&n);
            self.go(l, n as usize);
        }
        out
    }
}

impl Cuda {
    /// `s · d`, rounded to f32: the losses' and penalties' gradients, kept in f64 on
    /// the device until the incoming gradient scales them.
    pub(crate) fn scaled_f32(&self, d: &CudaSlice<f64>, s: f64) -> CudaSlice<f32> {
        let n = d.len() as i64;
        let mut out = self.alloc::<f32>(d.len());
        if let Some(f) = self.kernel(&MODULE, "scale_f64_to_f32") {
            let mut b = self.launcher(&f);
            b.arg(&mut out).arg(d).arg(&s).arg(&n);
            self.go(b, n as usize);
        }
        out
    }
}
