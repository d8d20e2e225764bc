//! The broadcast bias on the GPU.

use crate::device::cuda::module::Module;
use crate::device::Cuda;
use cudarc::driver::{CudaSlice, PushKernelArg};

pub const MODULE: Module = Module {
    op: "linear",
    source: r#"
extern "C" __global__ void add_bias_f32(float* y, const float* b, i64 cols, i64 n) {
    FOR_EACH(i, n) { y[i] += b[i % cols]; }
}
// Column sums row by row from the first, the CPU's order: one thread per column.
extern "C" __global__ void bias_grad_f32(float* db, const float* g, i64 rows, i64 cols) {
    FOR_EACH(j, cols) {
        float s = 0.0f;
        for (i64 r = 0; r < rows; ++r) { s += g[r * cols + j]; }
        db[j] = s;
    }
}
"#,
    functions: &["add_bias_f32", "bias_grad_f32"],
};

impl super::BiasKernel<f32> for Cuda {
    fn add_bias(&self, y: &mut CudaSlice<f32>, b: &CudaSlice<f32>, cols: usize) {
        let (cols, n) = (cols.max(1) as i64, y.len() as i64);
        if let Some(f) = self.kernel(&MODULE, "add_bias_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut *y).arg(b).arg(&cols).arg(&n);
            self.go(l, n as usize);
        }
    }

    fn bias_grad(&self, g: &CudaSlice<f32>, rows: usize, cols: usize) -> CudaSlice<f32> {
        let mut db = self.alloc::<f32>(cols);
        let (rows, cols) = (rows as i64, cols as i64);
        if let Some(f) = self.kernel(&MODULE, "bias_grad_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut db).arg(g).arg(&rows).arg(&cols);
            self.go(l, cols as usize);
        }
        db
    }
}
