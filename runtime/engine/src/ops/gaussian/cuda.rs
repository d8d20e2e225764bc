//! The Gaussian latent on the GPU: its inputs are a batch's latents (`batch × L` at
//! most), so the CPU's kernels run on host copies, as the penalties and the SVD do.

use super::{Cols, GaussianKernel};
use crate::device::{Cpu, Cuda, Device};
use cudarc::driver::CudaSlice;

impl GaussianKernel<f32> for Cuda {
    fn reparameterise(
        &self,
        mean: &CudaSlice<f32>,
        logvar: &CudaSlice<f32>,
        eps: &CudaSlice<f32>,
    ) -> CudaSlice<f32> {
        let z = Cpu.reparameterise(
            &self.to_host(mean),
            &self.to_host(logvar),
            &self.to_host(eps),
        );
        self.upload(&z)
    }

    fn reparameterise_backward(
        &self,
        logvar: &CudaSlice<f32>,
        eps: &CudaSlice<f32>,
        g: &CudaSlice<f32>,
    ) -> CudaSlice<f32> {
        let d = Cpu.reparameterise_backward(
            &self.to_host(logvar),
            &self.to_host(eps),
            &self.to_host(g),
        );
        self.upload(&d)
    }

    fn kl_forward(
        &self,
        mean: &CudaSlice<f32>,
        logvar: &CudaSlice<f32>,
        cols: Cols,
        beta: f64,
    ) -> f64 {
        Cpu.kl_forward(&self.to_host(mean), &self.to_host(logvar), cols, beta)
    }

    fn kl_backward(
        &self,
        mean: &CudaSlice<f32>,
        logvar: &CudaSlice<f32>,
        cols: Cols,
        beta: f64,
        g: f64,
    ) -> (CudaSlice<f32>, CudaSlice<f32>) {
        let (dm, dv) = Cpu.kl_backward(&self.to_host(mean), &self.to_host(logvar), cols, beta, g);
        (self.upload(&dm), self.upload(&dv))
    }
}
