//! The zoo's loss penalties, as host ops with closed-form backwards (sums in f64):
//!
//! - [`sparsity`] (Sparse AE): `β·[ρ ln(ρ/(m+ε)) + (1−ρ) ln((1−ρ)/(1−m+ε))]`, with `m` the
//!   mean of the sigmoid latent over the batch and the latent units, ε = 1e-8;
//! - [`contractive`] (Contractive AE, Rifai et al.): for `h = σ(W x + b)`, the squared
//!   Frobenius norm of ∂h/∂x, `Σ_j (h_j(1 − h_j))² Σ_i W_ij²`, averaged over the batch,
//!   times β. `W` is the encoder's last linear weight, stored `[in, L]`;
//! - [`weak`] (Weak RRAE): `β·‖Y − Y_k‖_F`, the batch's distance to its rank-k
//!   truncation; its gradient is `β (Y − Y_k)/‖Y − Y_k‖` (the tail energy's gradient).

mod cpu;
#[cfg(test)]
mod tests;

use crate::device::{Cpu, Device};
use crate::ops::loss::Scalar;
use crate::ops::tape::{accumulate, grad_of};
use crate::pool::Buf;
use crate::tensor::{host, Mat, Real};
use dfdx::prelude::*;

const EPS: f64 = 1e-8;

/// The penalties on a device: each returns its value (for the host's loss log) and
/// its derivatives, which the backward scales by the incoming gradient.
pub trait PenaltyKernel<E: Real>: Device {
    /// The KL sparsity penalty of `z` and `∂/∂z`.
    fn sparsity_forward(&self, z: &Self::Buf<E>, rho: f64, beta: f64) -> (f64, Self::Buf<f64>);

    /// The contractive penalty of `h` (`batch × l`) with `W` (`in × l`), `∂/∂h` and `∂/∂W`.
    fn contractive_forward(
        &self,
        h: &Self::Buf<E>,
        w: &Self::Buf<E>,
        l: usize,
        beta: f64,
    ) -> (f64, Self::Buf<f64>, Self::Buf<f64>);

    /// `β·‖Y − Y_k‖_F` of `y` (`batch × l`) and `∂/∂y`.
    fn weak_forward(
        &self,
        y: &Self::Buf<E>,
        batch: usize,
        l: usize,
        k: usize,
        beta: f64,
    ) -> (f64, Self::Buf<f64>);

    /// `g · d`, in the training precision.
    fn scaled(&self, d: &Self::Buf<f64>, g: f64) -> Self::Buf<E>;
}

/// A scalar output whose backward scales `d` (∂value/∂input) by the incoming gradient.
fn scalar_op<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(
    x: Mat<E, T>,
    value: f64,
    dx: Buf<f64>,
    extra: Option<(&Mat<E>, Buf<f64>)>,
) -> Scalar<E, T> {
    let (x, mut tape) = x.split_tape();
    let out: Scalar<E, NoneTape> = x.device().tensor_from_vec(vec![E::of(value)], ());
    if T::OWNS_TAPE {
        let (xg, og) = (x.ghost(), out.ghost());
        let extra = extra.map(|(w, dw)| (w.ghost(), dw));
        tape.add_backward_op(move |grads| {
            let g = grad_of!(grads, og)[0].f64();
            let d = PenaltyKernel::<E>::scaled(&Cpu, &dx, g);
            accumulate!(grads, xg, d);
            if let Some((wg, dw)) = &extra {
                let d = PenaltyKernel::<E>::scaled(&Cpu, dw, g);
                accumulate!(grads, (*wg), d);
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// The Sparse AE's KL penalty on the sigmoid latent `z` (`batch × L`, values in (0, 1)).
pub fn sparsity<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(
    z: Mat<E, T>,
    rho: f64,
    beta: f64,
) -> Scalar<E, T> {
    let (value, d) = Cpu.sparsity_forward(&host(&z), rho, beta);
    scalar_op(z, value, d, None)
}

/// The contractive penalty of `h = σ(x W + b)` (`batch × L`) with `W` (`in × L`).
pub fn contractive<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(
    h: Mat<E, T>,
    w: &Mat<E>,
    beta: f64,
) -> Scalar<E, T> {
    let l = h.shape().1;
    let (value, dh, dw) = Cpu.contractive_forward(&host(&h), &host(w), l, beta);
    scalar_op(h, value, dh, Some((w, dw)))
}

/// The Weak RRAE penalty `β·‖Y − Y_k‖_F` of the batch latent `y` (`batch × L`).
pub fn weak<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(
    y: Mat<E, T>,
    k: usize,
    beta: f64,
) -> Scalar<E, T> {
    let (b, l) = *y.shape();
    let (value, d) = Cpu.weak_forward(&host(&y), b, l, k, beta);
    scalar_op(y, value, d, None)
}
