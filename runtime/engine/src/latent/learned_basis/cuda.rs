//! The learned projection on the GPU: `y` (`batch × L`) and `B` (`L × k`) are small,
//! and the normalisation's backward is column by column, so the CPU's f64 kernel runs
//! on host copies.

use super::LearnedBasisKernel;
use crate::device::{Cpu, Cuda, Device};
use cudarc::driver::CudaSlice;

impl LearnedBasisKernel<f32> for Cuda {
    type Saved = <Cpu as LearnedBasisKernel<f32>>::Saved;

    fn learned_projection_forward(
        &self,
        y: &CudaSlice<f32>,
        b: &CudaSlice<f32>,
        n: usize,
        l: usize,
        k: usize,
    ) -> (CudaSlice<f32>, Self::Saved) {
        let (z, saved) =
            Cpu.learned_projection_forward(&self.to_host(y), &self.to_host(b), n, l, k);
        (self.upload(&z), saved)
    }

    fn learned_projection_backward(
        &self,
        saved: &Self::Saved,
        g: &CudaSlice<f32>,
    ) -> (CudaSlice<f32>, CudaSlice<f32>) {
        let (dy, db) = Cpu.learned_projection_backward(saved, &self.to_host(g));
        (self.upload(&dy), self.upload(&db))
    }
}
