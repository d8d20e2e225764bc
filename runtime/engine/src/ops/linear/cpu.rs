//! Host kernels of the bias: the same loops, in the same order, as dfdx's broadcast add.

use crate::device::Cpu;
use crate::pool::{self, Buf};
use crate::tensor::Real;

impl<E: Real> super::BiasKernel<E> for Cpu {
    fn add_bias(&self, y: &mut Buf<E>, b: &Buf<E>, cols: usize) {
        for row in y.chunks_exact_mut(cols.max(1)) {
            row.iter_mut().zip(b.iter()).for_each(|(y, b)| *y += *b);
        }
    }

    fn bias_grad(&self, g: &Buf<E>, _rows: usize, cols: usize) -> Buf<E> {
        let mut db = pool::zeroed(cols);
        for row in g.chunks_exact(cols.max(1)) {
            db.iter_mut().zip(row).for_each(|(d, g)| *d += *g);
        }
        db
    }
}
