//! The penalties on the GPU: their inputs are a batch's latents (`batch × L`) and one
//! small weight matrix, so they are copied to the host and computed by the CPU's
//! kernels in f64; their derivatives go back as f64 and are scaled on the device.

use super::PenaltyKernel;
use crate::device::{Cpu, Cuda, Device};
use cudarc::driver::CudaSlice;

impl PenaltyKernel<f32> for Cuda {
    fn sparsity_forward(&self, z: &CudaSlice<f32>, rho: f64, beta: f64) -> (f64, CudaSlice<f64>) {
        let (v, d) = Cpu.sparsity_forward(&self.to_host(z), rho, beta);
        (v, self.upload(&d))
    }

    fn contractive_forward(
        &self,
        h: &CudaSlice<f32>,
        w: &CudaSlice<f32>,
        l: usize,
        beta: f64,
    ) -> (f64, CudaSlice<f64>, CudaSlice<f64>) {
        let (v, dh, dw) = Cpu.contractive_forward(&self.to_host(h), &self.to_host(w), l, beta);
        (v, self.upload(&dh), self.upload(&dw))
    }

    fn weak_forward(
        &self,
        y: &CudaSlice<f32>,
        batch: usize,
        l: usize,
        k: usize,
        beta: f64,
    ) -> (f64, CudaSlice<f64>) {
        let (v, d) = Cpu.weak_forward(&self.to_host(y), batch, l, k, beta);
        (v, self.upload(&d))
    }

    fn scaled(&self, d: &CudaSlice<f64>, g: f64) -> CudaSlice<f32> {
        self.scaled_f32(d, g)
    }
}
