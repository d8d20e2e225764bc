//! conv_transpose2d on the GPU: the products of conv2d's backward run forward. One
//! strided batched product gives every sample's columns `Wᵀ · x`, `col2im` scatters
//! them (as a gather) onto the output grid; the backward takes `im2col` of the output
//! gradient. The composition and the column kernels are conv2d's
//! ([`crate::ops::conv2d::cuda`]).

use crate::device::Cuda;
use crate::ops::conv2d::cuda::{transposed_backward, transposed_forward, Saved};
use crate::ops::weighted::Epilogue;
use cudarc::driver::CudaSlice;
use rrae_artifact::Geometry;

impl super::ConvTranspose2dKernel<f32> for Cuda {
    type Saved = Saved<CudaSlice<f32>, CudaSlice<bool>>;

    fn conv_transpose2d_forward(
        &self,
        geo: &Geometry,
        cin: usize,
        x: &CudaSlice<f32>,
        w: &CudaSlice<f32>,
        b: Option<&CudaSlice<f32>>,
        epilogue: Epilogue,
        keep: bool,
    ) -> (CudaSlice<f32>, Self::Saved) {
        transposed_forward(self, geo, cin, x, w, b, epilogue, keep)
    }

    fn conv_transpose2d_backward(
        &self,
        geo: &Geometry,
        cin: usize,
        saved: &Self::Saved,
        x: &CudaSlice<f32>,
        w: &CudaSlice<f32>,
        g: CudaSlice<f32>,
    ) -> (CudaSlice<f32>, CudaSlice<f32>, CudaSlice<f32>) {
        transposed_backward(self, (geo, cin), saved, x, w, g)
    }
}
