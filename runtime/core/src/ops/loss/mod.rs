//! Losses. The paper's relative L2 error in percent, `100·‖pred − y‖_F / ‖y‖_F` over the
//! whole batch (the authors' `loss_fun`), and the mean squared error.

#[cfg(test)]
mod tests;

use crate::tensor::{Mat, Real};
use dfdx::prelude::*;
use rrae_lang::ir::Loss;

pub type Scalar<E, T> = Tensor<(), E, Cpu, T>;

pub fn loss<E: Real, T: Tape<E, Cpu> + Merge<NoneTape>>(
    kind: Loss,
    pred: Mat<E, T>,
    target: &Mat<E>,
) -> Scalar<E, T>
where
    Cpu: Device<E>,
{
    match kind {
        Loss::RelativeL2 => relative_l2(pred, target),
        Loss::Mse => (pred - target.clone()).square().mean(),
    }
}

/// `100·‖pred − y‖ / ‖y‖`; a tiny floor under the square root keeps a perfect fit's
/// gradient finite, and an all-zero target divides by one instead of zero.
pub fn relative_l2<E: Real, T: Tape<E, Cpu> + Merge<NoneTape>>(
    pred: Mat<E, T>,
    target: &Mat<E>,
) -> Scalar<E, T>
where
    Cpu: Device<E>,
{
    let norm: f64 = target
        .as_vec()
        .iter()
        .map(|v| v.f64() * v.f64())
        .sum::<f64>()
        .sqrt();
    let scale = 100.0 / if norm > 0.0 { norm } else { 1.0 };
    ((pred - target.clone()).square().sum() + E::of(1e-30)).sqrt() * E::of(scale)
}
