//! The VRRAE's coefficients on the GPU: the batch's SVD is a host computation whatever
//! the device (as `svd_truncate`'s), so the CPU kernel runs on host copies.

use super::CoefficientsKernel;
use crate::device::{Cpu, Cuda, Device};
use crate::truncation::Truncation;
use cudarc::driver::CudaSlice;

impl CoefficientsKernel<f32> for Cuda {
    fn coefficients_forward(
        &self,
        y: &CudaSlice<f32>,
        batch: usize,
        l: usize,
        k: usize,
        width: usize,
    ) -> (CudaSlice<f32>, CudaSlice<f32>, Truncation) {
        let (c, ut, t) = Cpu.coefficients_forward(&self.to_host(y), batch, l, k, width);
        (self.upload(&c), self.upload(&ut), t)
    }

    fn coefficients_backward(
        &self,
        t: &Truncation,
        y: &CudaSlice<f32>,
        g: &CudaSlice<f32>,
        width: usize,
    ) -> CudaSlice<f32> {
        self.upload(&Cpu.coefficients_backward(t, &self.to_host(y), &self.to_host(g), width))
    }

    fn basis_backward(&self, t: &Truncation, g: &CudaSlice<f32>, width: usize) -> CudaSlice<f32> {
        self.upload(&Cpu.basis_backward(t, &self.to_host(g), width))
    }
}
