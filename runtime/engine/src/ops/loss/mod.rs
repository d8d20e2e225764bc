//! Losses. The paper's relative L2 error in percent, `100·‖pred − y‖_F / ‖y‖_F` over the
//! whole batch (the authors' `loss_fun`), and the mean squared error. A host op, so the
//! sums run in f64 whatever the training precision. An all-zero target divides by one.

mod cpu;
#[cfg(test)]
mod tests;

use crate::device::{Cpu, Device};
use crate::ops::tape::{accumulate, grad_of};
use crate::tensor::{host, Mat, Real};
use dfdx::prelude::*;
use rrae_lang::ir::Loss;

pub type Scalar<E, T> = Tensor<(), E, dfdx::tensor::Cpu, T>;

/// The losses on a device. The value crosses to the host (the trainer logs it and the
/// controller decides on it); the gradient stays on the device.
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

pub fn loss<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(
    kind: Loss,
    pred: Mat<E, T>,
    target: &Mat<E>,
) -> Scalar<E, T> {
    let (pred, mut tape) = pred.split_tape();
    let (value, saved) = Cpu.loss_forward(kind, &host(&pred), &host(target));
    let out: Scalar<E, NoneTape> = pred.device().tensor_from_vec(vec![E::of(value)], ());
    if T::OWNS_TAPE {
        let (pg, og) = (pred.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let g = grad_of!(grads, og)[0].f64();
            let dp = Cpu.loss_backward(&saved, g);
            accumulate!(grads, pg, dp);
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// Mean softmax cross-entropy of `logits` (`batch × classes`) against class indices
/// (the FID-style scores' classifier). Log-sum-exp in f64 with the row maximum
/// subtracted; the backward is `(softmax − onehot) / batch`.
pub fn cross_entropy<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(
    logits: Mat<E, T>,
    labels: &[usize],
) -> Scalar<E, T> {
    let c = logits.shape().1;
    let (logits, mut tape) = logits.split_tape();
    let (value, saved) = Cpu.cross_entropy_forward(&host(&logits), c, labels);
    let out: Scalar<E, NoneTape> = logits.device().tensor_from_vec(vec![E::of(value)], ());
    if T::OWNS_TAPE {
        let (lg, og) = (logits.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let g = grad_of!(grads, og)[0];
            let dl = Cpu.cross_entropy_backward(&saved, g);
            accumulate!(grads, lg, dl);
            Ok(())
        });
    }
    out.put_tape(tape)
}
