//! Host kernels of the element-wise ops.

use crate::device::Cpu;
use crate::pool::{self, Buf};
use crate::tensor::Real;

impl<E: Real> super::TapeKernel<E> for Cpu {
    fn zeros(&self, n: usize) -> Buf<E> {
        pool::zeroed(n)
    }

    fn copy(&self, x: &Buf<E>) -> Buf<E> {
        let mut out = pool::take(x.len());
        out.copy_from_slice(x);
        out
    }

    /// On the rayon pool for activation-sized buffers.
    fn add_assign(&self, acc: &mut Buf<E>, delta: &Buf<E>) {
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 16;
        debug_assert_eq!(acc.len(), delta.len());
        if acc.len() < 2 * CHUNK {
            acc.iter_mut().zip(delta.iter()).for_each(|(a, d)| *a += *d);
        } else {
            acc.par_chunks_mut(CHUNK)
                .zip(delta.par_chunks(CHUNK))
                .for_each(|(a, d)| a.iter_mut().zip(d).for_each(|(a, d)| *a += *d));
        }
    }

    fn add(&self, a: &Buf<E>, b: &Buf<E>) -> Buf<E> {
        let mut out = self.copy(a);
        self.add_assign(&mut out, b);
        out
    }
}
