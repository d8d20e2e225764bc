//! The host matrix product: the `gemm` crate, called exactly as dfdx 0.13 calls it
//! (no small-matrix shortcut, every rayon thread), so the loss traces of models made
//! of linear layers stay what they were when dfdx computed them.

use crate::device::Cpu;
use crate::ops::gemm::{product, Tr};
use crate::pool::Buf;
use crate::tensor::Real;

impl<E: Real> super::MatmulKernel<E> for Cpu {
    fn matmul_into(
        &self,
        dims: (usize, usize, usize),
        a: &Buf<E>,
        ta: Tr,
        b: &Buf<E>,
        tb: Tr,
        c: &mut Buf<E>,
        accumulate: bool,
    ) {
        product(dims, a, ta, b, tb, c, accumulate);
    }
}
