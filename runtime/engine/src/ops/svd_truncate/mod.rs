//! `svd_truncate(k)`: the RRAE bottleneck. The batch's latent matrix `Y` (L × batch, a
//! column per sample) is replaced by `Y_k = U_k U_kᵀ Y`, its best rank-k approximation.
//!
//! Stable semantics (the paper's Appendix A):
//! - singular values below `s₀·1e-11` count as zero: their directions are noise, so
//!   they are neither kept nor differentiated through (an all-zero latent gives zero);
//! - the backward only divides by gaps `s_i² − s_j²` between a kept (`i < k`) and a
//!   discarded (`j ≥ k`) value; a gap below `max(1e-9, 1e-12·s₀²)` drops that term
//!   (equal values across the cut are a true non-differentiability). Repeated values
//!   inside either block never appear in a denominator, so they are harmless.
//!
//! With thin SVD `Y = U S Vᵀ`, `U₁ = U[:, :k]`, `G = ∂ℓ/∂Y_k`, `C = UᵀGV`:
//! `∂ℓ/∂Y = U₁U₁ᵀG + (I − UUᵀ) G V₁V₁ᵀ + U M Vᵀ`, where for `i < k ≤ j`
//! `F = (s_i C_ji + s_j C_ij)/(s_i² − s_j²)`, `M_ji = s_i F`, `M_ij = s_j F`.

mod cpu;
#[cfg(test)]
mod tests;

pub use cpu::{project_rank_k, Truncation};

use crate::device::{Cpu, Device};
use crate::ops::tape::{accumulate, grad_of, timing};
use crate::pool::Buf;
use crate::tensor::{host, Mat, Real};
use dfdx::prelude::*;

/// Relative cut under which a singular value counts as zero.
pub const ZERO_SINGULAR: f64 = 1e-11;
/// Absolute floor of the gaps the backward divides by.
pub const MIN_GAP: f64 = 1e-9;

/// The truncated-SVD projector on a device. The SVD of a `batch × L` matrix is small
/// and its factors are what the trainer keeps (the basis U_k, the singular values), so
/// [`Truncation`] lives on the host whatever the device.
pub trait SvdTruncateKernel<E: Real>: Device {
    /// `x: batch × L` (rows are samples, `Yᵀ`) → `Y_kᵀ`, and the truncation.
    fn svd_truncate_forward(
        &self,
        x: &Self::Buf<E>,
        batch: usize,
        l: usize,
        k: usize,
    ) -> (Self::Buf<E>, Truncation);

    /// `∂ℓ/∂Yᵀ` from `g = ∂ℓ/∂Y_kᵀ`.
    fn svd_truncate_backward(&self, t: &Truncation, g: &Self::Buf<E>) -> Self::Buf<E>;
}

/// `x: (batch, L)` (rows are samples, i.e. `Yᵀ`) → its rank-k projection, plus the
/// kept basis and the batch's singular values.
pub fn svd_truncate<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(
    x: Mat<E, T>,
    k: usize,
) -> (Mat<E, T>, Truncation) {
    let (batch, l) = *x.shape();
    let (x, mut tape) = x.split_tape();
    let (out, t) = Cpu.svd_truncate_forward(&host(&x), batch, l, k);
    let out: Mat<E> = x.device().tensor_from_vec(out.into_vec(), (batch, l));
    if T::OWNS_TAPE {
        let (xg, og) = (x.ghost(), out.ghost());
        let state = t.clone();
        tape.add_backward_op(move |grads| {
            let g = Buf::from_vec(grad_of!(grads, og));
            let dx = timing::timed(
                || "svd_truncate backward".into(),
                || Cpu.svd_truncate_backward(&state, &g),
            );
            accumulate!(grads, xg, dx);
            Ok(())
        });
    }
    (out.put_tape(tape), t)
}
