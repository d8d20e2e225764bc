//! The nuclear norm on the GPU: W is one L × L matrix, so the CPU's SVD runs on a host
//! copy and the gradient goes back.

use super::NuclearKernel;
use crate::device::{Cpu, Cuda, Device};
use cudarc::driver::CudaSlice;

impl NuclearKernel<f32> for Cuda {
    fn nuclear_forward(
        &self,
        w: &CudaSlice<f32>,
        rows: usize,
        cols: usize,
        lambda: f64,
    ) -> (f64, CudaSlice<f32>) {
        let (v, d) = Cpu.nuclear_forward(&self.to_host(w), rows, cols, lambda);
        (v, self.upload(&d))
    }

    fn nuclear_scaled(&self, d: &CudaSlice<f32>, g: f64) -> CudaSlice<f32> {
        self.upload(&Cpu.nuclear_scaled(&self.to_host(d), g))
    }
}
