//! The truncated-SVD projector on the GPU: the batch's `batch × L` latents go to the
//! host, where the SVD and its stable backward run in f64 (the CPU's code), and the
//! projection comes back. The matrix is small (64 × 200 for the paper's CelebA
//! network), so the copy is two small transfers a step; cuSOLVER's batched SVD would
//! save them at the cost of a second SVD implementation to keep in agreement.

use crate::device::{Cuda, Device};
use crate::truncation::{project_rank_k, Truncation};
use cudarc::driver::CudaSlice;

impl super::SvdTruncateKernel<f32> for Cuda {
    fn svd_truncate_forward(
        &self,
        x: &CudaSlice<f32>,
        batch: usize,
        l: usize,
        k: usize,
    ) -> (CudaSlice<f32>, Truncation) {
        let xs: Vec<f64> = self.download(x).iter().map(|&v| v as f64).collect();
        let t = project_rank_k(&xs, batch, l, k);
        let out: Vec<f32> = t.output.iter().map(|&v| v as f32).collect();
        (self.upload(&out), t)
    }

    fn svd_truncate_backward(&self, t: &Truncation, g: &CudaSlice<f32>) -> CudaSlice<f32> {
        let g: Vec<f64> = self.download(g).iter().map(|&v| v as f64).collect();
        let dx: Vec<f32> = t.backward(&g).into_iter().map(|v| v as f32).collect();
        self.upload(&dx)
    }
}
