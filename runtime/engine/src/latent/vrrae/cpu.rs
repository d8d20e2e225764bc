//! The host kernel of the VRRAE's coefficients, in f64 on the batch's SVD.

use crate::device::Cpu;
use crate::linalg::{from_rows, to_rows};
use crate::pool::Buf;
use crate::tensor::Real;
use crate::truncation::{project_rank_k, Truncation};
use nalgebra::DMatrix;

fn host<E: Real>(b: &Buf<E>) -> Vec<f64> {
    b.iter().map(|v| v.f64()).collect()
}

fn buf<E: Real>(m: &DMatrix<f64>) -> Buf<E> {
    Buf::from_vec(to_rows(m).into_iter().map(E::of).collect())
}

/// `∂y` (`batch × L`, a device buffer's layout) from the gradient `gu` (`L × kept`) that
/// reached `U_k`.
fn through_basis<E: Real>(t: &Truncation, gu: &DMatrix<f64>) -> Buf<E> {
    buf(&t.basis_backward(gu).transpose())
}

impl<E: Real> super::CoefficientsKernel<E> for Cpu {
    fn coefficients_forward(
        &self,
        y: &Buf<E>,
        batch: usize,
        l: usize,
        k: usize,
        width: usize,
    ) -> (Buf<E>, Buf<E>, Truncation) {
        let ys = host(y);
        let t = project_rank_k(&ys, batch, l, k);
        let u = t.basis(); // L × kept
        let c = from_rows(&ys, batch, l) * &u; // batch × kept
        let kept = u.ncols().min(width);
        let cw = DMatrix::from_fn(batch, width, |i, j| if j < kept { c[(i, j)] } else { 0.0 });
        let ut = DMatrix::from_fn(width, l, |j, i| if j < kept { u[(i, j)] } else { 0.0 });
        (buf(&cw), buf(&ut), t)
    }

    fn coefficients_backward(
        &self,
        t: &Truncation,
        y: &Buf<E>,
        g: &Buf<E>,
        width: usize,
    ) -> Buf<E> {
        let u = t.basis();
        let (l, kept) = (u.nrows(), u.ncols().min(width));
        let batch = y.len() / l.max(1);
        let g = from_rows(&host(g), batch, width)
            .columns(0, kept)
            .into_owned();
        let u = u.columns(0, kept).into_owned();
        // C = y U_k: ∂y = g U_kᵀ directly, and ∂U_k = yᵀ g through the basis.
        let direct = &g * u.transpose();
        let gu = from_rows(&host(y), batch, l).transpose() * &g;
        let via: Buf<E> = through_basis(t, &gu);
        Buf::from_vec(
            to_rows(&direct)
                .into_iter()
                .zip(via.iter())
                .map(|(a, b)| E::of(a + b.f64()))
                .collect(),
        )
    }

    fn basis_backward(&self, t: &Truncation, g: &Buf<E>, width: usize) -> Buf<E> {
        let l = t.u.nrows();
        let kept = t.kept.min(width);
        // ∂U_kᵀ is width × L; U_k's gradient is its leading rows, transposed.
        let gut = from_rows(&host(g), width, l);
        let gu = gut.rows(0, kept).transpose();
        through_basis(t, &gu)
    }
}
