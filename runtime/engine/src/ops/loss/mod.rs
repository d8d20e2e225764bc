//! Losses. The paper's relative L2 error in percent, `100·‖pred − y‖_F / ‖y‖_F` over the
//! whole batch (the authors' `loss_fun`), and the mean squared error. A host op, so the
//! sums run in f64 whatever the training precision. An all-zero target divides by one.

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use crate::device::Device;
use crate::tape::TapeKernel;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_lang::ir::Loss;

pub trait LossKernel<E: Real>: Device {
    /// What the backward needs: the residual and its scale.
    type Saved: Send + Sync + 'static;
    /// What the cross-entropy's backward needs: `(softmax − onehot) / batch`.
    type SavedCe: Send + Sync + 'static;

    /// The loss of `pred` against `target` (same shape), and its saved state.
    fn loss_forward(
        &self,
        kind: Loss,
        pred: &Self::Buf<E>,
        target: &Self::Buf<E>,
    ) -> (f64, Self::Saved);

    /// `∂ℓ/∂pred` for the incoming gradient `g` of the loss value.
    fn loss_backward(&self, saved: &Self::Saved, g: f64) -> Self::Buf<E>;

    /// The mean cross-entropy of `logits` (`labels.len() × classes`).
    fn cross_entropy_forward(
        &self,
        logits: &Self::Buf<E>,
        classes: usize,
        labels: &[usize],
    ) -> (f64, Self::SavedCe);

    /// `∂ℓ/∂logits` for the incoming gradient `g`.
    fn cross_entropy_backward(&self, saved: &Self::SavedCe, g: E) -> Self::Buf<E>;
}

/// The loss value and the factor its backward scales the residual by, from the sums
/// every form of the loss computes its own way (the CPU's, the GPU's, the ranks' of a
/// data-parallel step): `sq` = Σ(pred − target)², `norm` = ‖target‖ (asked only for the
/// relative L2), `n` values.
pub fn value_and_scale(kind: Loss, sq: f64, norm: impl FnOnce() -> f64, n: f64) -> (f64, f64) {
    match kind {
        Loss::RelativeL2 => {
            let norm = norm();
            let scale = 100.0 / if norm > 0.0 { norm } else { 1.0 };
            let root = sq.sqrt();
            // d/dp (scale·‖d‖) = scale·d/‖d‖; a perfect fit has gradient zero.
            (scale * root, if root > 0.0 { scale / root } else { 0.0 })
        }
        Loss::Mse => {
            let n = n.max(1.0);
            (sq / n, 2.0 / n)
        }
    }
}

pub fn loss<D: LossKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    kind: Loss,
    pred: Var,
    target: Var,
) -> Var {
    let (value, saved) = tape
        .dev()
        .loss_forward(kind, tape.value(pred), tape.value(target));
    let out = tape.scalar(E::of(value), &[pred]);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            let g = pass.dev().download(&g)[0].f64();
            let dp = pass.dev().loss_backward(&saved, g);
            pass.add_grad(pred, dp);
        }
        Ok(())
    });
    out
}

/// Mean softmax cross-entropy of `logits` (`batch × classes`) against class indices
/// (the FID-style scores' classifier). Log-sum-exp in f64 with the row maximum
/// subtracted; the backward is `(softmax − onehot) / batch`.
pub fn cross_entropy<D: LossKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    logits: Var,
    labels: &[usize],
) -> Var {
    let (value, saved) = tape
        .dev()
        .cross_entropy_forward(tape.value(logits), logits.cols, labels);
    let out = tape.scalar(E::of(value), &[logits]);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            let g = pass.dev().download(&g)[0];
            let dl = pass.dev().cross_entropy_backward(&saved, g);
            pass.add_grad(logits, dl);
        }
        Ok(())
    });
    out
}
