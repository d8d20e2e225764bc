//! Host forward and backward of the truncated-SVD projector, in f64.

use crate::device::Cpu;
use crate::pool::Buf;
use crate::tensor::Real;
use crate::truncation::{project_rank_k, Truncation};

impl<E: Real> super::SvdTruncateKernel<E> for Cpu {
    fn svd_truncate_forward(
        &self,
        x: &Buf<E>,
        batch: usize,
        l: usize,
        k: usize,
    ) -> (Buf<E>, Truncation) {
        let xs: Vec<f64> = x.iter().map(|v| v.f64()).collect();
        let t = project_rank_k(&xs, batch, l, k);
        let out = t.output.iter().map(|&v| E::of(v)).collect();
        (Buf::from_vec(out), t)
    }

    fn svd_truncate_backward(&self, t: &Truncation, g: &Buf<E>) -> Buf<E> {
        let g: Vec<f64> = g.iter().map(|v| v.f64()).collect();
        Buf::from_vec(t.backward(&g).into_iter().map(E::of).collect())
    }
}
