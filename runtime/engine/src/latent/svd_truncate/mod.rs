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
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

pub use crate::truncation::{project_rank_k, Truncation};

use crate::device::Device;
use crate::tape::TapeKernel;
use crate::tape::{timing, Tape, Var};
use crate::tensor::Real;

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
pub fn svd_truncate<D: SvdTruncateKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    x: Var,
    k: usize,
) -> (Var, Truncation) {
    let (batch, l) = x.shape();
    let (out, t) = tape.dev().svd_truncate_forward(tape.value(x), batch, l, k);
    let out = tape.output(out, batch, l, &[x]);
    let state = tape.wants(out).then(|| t.clone());
    tape.on_backward(out, move |pass| {
        if let (Some(g), Some(state)) = (pass.take_grad(out), state) {
            let dx = timing::timed(
                || "svd_truncate backward".into(),
                || pass.dev().svd_truncate_backward(&state, &g),
            );
            pass.add_grad(x, dx);
        }
        Ok(())
    });
    (out, t)
}

pub use self::SvdTruncateKernel as Kernel;

/// The training form: the kept rank, set by the controller between steps.
impl super::LatentForm for rrae_lang::ir::Rank {
    type State = usize;

    fn lower(&self, cx: &mut super::LowerCx) -> crate::Result<usize> {
        use rrae_lang::ir::Rank;
        Ok(match self {
            Rank::Fixed(k) => *k,
            // The controller lowers k from min(batch, L) (or raises it from 1).
            Rank::Adaptive { .. } | Rank::Annealed { .. } | Rank::Descended { .. } => {
                cx.ir.latent.k_max
            }
        })
    }

    fn forward<D: super::LatentKernels<E>, E: Real>(
        k: &usize,
        tape: &mut Tape<D, E>,
        y: Var,
        _: &[Var],
    ) -> crate::Result<(Var, Option<Var>)> {
        Ok((svd_truncate(tape, y, *k).0, None))
    }

    fn rank(k: &usize) -> Option<usize> {
        Some(*k)
    }

    fn set_rank(k: &mut usize, new: usize) {
        *k = new;
    }

    fn sharding(_: &usize) -> crate::latent::Sharding {
        crate::latent::Sharding::GlobalBatch
    }

    fn label(k: &usize, _: &crate::params::ParamSet) -> String {
        format!("svd_truncate(k={k}) (host SVD, stable backward)")
    }

    fn basis(k: &usize, _: &crate::params::ParamSet) -> super::BasisSource {
        super::BasisSource::Common { k: *k }
    }
}
