//! The host kernel of the nuclear norm, in f64 on W's SVD.

use crate::device::Cpu;
use crate::linalg::{from_rows, svd, to_rows};
use crate::pool::Buf;
use crate::tensor::Real;
use crate::truncation::ZERO_SINGULAR;

impl<E: Real> super::NuclearKernel<E> for Cpu {
    fn nuclear_forward(&self, w: &Buf<E>, rows: usize, cols: usize, lambda: f64) -> (f64, Buf<E>) {
        let m = from_rows(&w.iter().map(|v| v.f64()).collect::<Vec<_>>(), rows, cols);
        let d = svd(&m);
        let s0 = d.s.first().copied().unwrap_or(0.0);
        let r =
            d.s.iter()
                .take_while(|&&s| s0 > 0.0 && s > s0 * ZERO_SINGULAR)
                .count();
        let g = d.u.columns(0, r) * d.v.columns(0, r).transpose() * lambda;
        let value = lambda * d.s.iter().sum::<f64>();
        (
            value,
            Buf::from_vec(to_rows(&g).into_iter().map(E::of).collect()),
        )
    }

    fn nuclear_scaled(&self, d: &Buf<E>, g: f64) -> Buf<E> {
        Buf::from_vec(d.iter().map(|v| E::of(v.f64() * g)).collect())
    }
}
