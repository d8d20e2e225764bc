//! Matrix products on the GPU: cuBLAS sgemm ([`Cuda::gemm`]).

use super::Tr;
use crate::device::Cuda;
use cudarc::driver::CudaSlice;

impl super::MatmulKernel<f32> for Cuda {
    fn matmul_into(
        &self,
        dims: (usize, usize, usize),
        a: &CudaSlice<f32>,
        ta: Tr,
        b: &CudaSlice<f32>,
        tb: Tr,
        c: &mut CudaSlice<f32>,
        accumulate: bool,
    ) {
        self.gemm(dims, a, ta, b, tb, c, accumulate);
    }
}
