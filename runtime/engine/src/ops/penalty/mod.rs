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
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use crate::device::Device;
use crate::tape::TapeKernel;
use crate::tape::{Tape, Var};
use crate::tensor::Real;

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
fn scalar_op<D: PenaltyKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    x: Var,
    value: f64,
    dx: D::Buf<f64>,
    extra: Option<(Var, D::Buf<f64>)>,
) -> Var {
    let inputs: Vec<Var> = std::iter::once(x)
        .chain(extra.as_ref().map(|e| e.0))
        .collect();
    let out = tape.scalar(E::of(value), &inputs);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            let g = pass.dev().download(&g)[0].f64();
            let d = PenaltyKernel::<E>::scaled(pass.dev(), &dx, g);
            pass.add_grad(x, d);
            if let Some((w, dw)) = &extra {
                let d = PenaltyKernel::<E>::scaled(pass.dev(), dw, g);
                pass.add_grad(*w, d);
            }
        }
        Ok(())
    });
    out
}

/// The Sparse AE's KL penalty of the sigmoid latent `z`.
pub fn sparsity<D: PenaltyKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    z: Var,
    rho: f64,
    beta: f64,
) -> Var {
    let (value, d) = tape.dev().sparsity_forward(tape.value(z), rho, beta);
    scalar_op(tape, z, value, d, None)
}

/// The Contractive AE's Jacobian penalty of `h = σ(W x + b)`, `w` being `W`.
pub fn contractive<D: PenaltyKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    h: Var,
    w: Var,
    beta: f64,
) -> Var {
    let (value, dh, dw) =
        tape.dev()
            .contractive_forward(tape.value(h), tape.value(w), h.cols, beta);
    scalar_op(tape, h, value, dh, Some((w, dw)))
}

/// The Weak RRAE's distance of `y` to its rank-`k` truncation.
pub fn weak<D: PenaltyKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    y: Var,
    k: usize,
    beta: f64,
) -> Var {
    let (b, l) = y.shape();
    let (value, d) = tape.dev().weak_forward(tape.value(y), b, l, k, beta);
    scalar_op(tape, y, value, d, None)
}
