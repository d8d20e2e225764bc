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

use crate::ops::tape::{accumulate, grad_of, timing};
use crate::tensor::{Mat, Real};
use dfdx::prelude::*;

/// Relative cut under which a singular value counts as zero.
pub const ZERO_SINGULAR: f64 = 1e-11;
/// Absolute floor of the gaps the backward divides by.
pub const MIN_GAP: f64 = 1e-9;

/// `x: (batch, L)` (rows are samples, i.e. `Yᵀ`) → its rank-k projection, plus the
/// kept basis and the batch's singular values.
pub fn svd_truncate<E: Real, T: Tape<E, Cpu>>(x: Mat<E, T>, k: usize) -> (Mat<E, T>, Truncation) {
    let (batch, l) = *x.shape();
    let (x, mut tape) = x.split_tape();
    let xs: Vec<f64> = x.as_vec().into_iter().map(Real::f64).collect();
    let t = project_rank_k(&xs, batch, l, k);
    let out: Mat<E> = x
        .device()
        .tensor_from_vec(t.output.iter().map(|&v| E::of(v)).collect(), (batch, l));
    if T::OWNS_TAPE {
        let (xg, og) = (x.ghost(), out.ghost());
        let state = t.clone();
        tape.add_backward_op(move |grads| {
            let g: Vec<f64> = grad_of!(grads, og).into_iter().map(Real::f64).collect();
            let dx: Vec<E> =
                timing::timed(|| "svd_truncate backward".into(), || state.backward(&g))
                    .into_iter()
                    .map(E::of)
                    .collect();
            accumulate!(grads, xg, dx);
            Ok(())
        });
    }
    (out.put_tape(tape), t)
}
