//! The Learn-basis AE's latent map: `Y ↦ Û Ûᵀ Y` with a trainable `B` (L × k) whose
//! columns are normalised, `Û = B diag(‖b_j‖)⁻¹`. Unlike the SVD projector the basis
//! is a parameter, so the backward reaches both `Y` and `B`:
//!
//! with rows as samples, `z = y Û Ûᵀ`, `G = ∂ℓ/∂z`:
//! `∂ℓ/∂y = G Û Ûᵀ`, `∂ℓ/∂Û = (yᵀG + Gᵀy) Û`, and through the normalisation
//! `∂ℓ/∂b_j = (I − û_j û_jᵀ) ∂ℓ/∂û_j / ‖b_j‖`.

mod cpu;
#[cfg(test)]
mod tests;

use crate::device::{Cpu, Device};
use crate::ops::tape::{accumulate, grad_of};
use crate::pool::Buf;
use crate::tensor::{host, Mat, Real};
use dfdx::prelude::*;
use nalgebra::DMatrix;

/// The learned projection on a device.
pub trait LearnedBasisKernel<E: Real>: Device {
    /// What the backward needs: `y`, `B` and `Û`.
    type Saved: Send + Sync + 'static;

    /// `y Û Ûᵀ` for `y` (`n × l`) and `b` (`l × k`).
    fn learned_projection_forward(
        &self,
        y: &Self::Buf<E>,
        b: &Self::Buf<E>,
        n: usize,
        l: usize,
        k: usize,
    ) -> (Self::Buf<E>, Self::Saved);

    /// `(∂ℓ/∂y, ∂ℓ/∂B)` from the output gradient `g`.
    fn learned_projection_backward(
        &self,
        saved: &Self::Saved,
        g: &Self::Buf<E>,
    ) -> (Self::Buf<E>, Self::Buf<E>);
}

/// `B` with unit columns (a zero column stays zero).
pub fn normalised(b: &DMatrix<f64>) -> DMatrix<f64> {
    let mut u = b.clone();
    for mut c in u.column_iter_mut() {
        let n = c.norm();
        if n > 0.0 {
            c /= n;
        }
    }
    u
}

/// `y Û Ûᵀ` for `y` (`batch × L`) and the parameter `b` (`L × k`).
pub fn learned_projection<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(
    y: Mat<E, T>,
    b: &Mat<E>,
) -> Mat<E, T> {
    let (n, l) = *y.shape();
    let k = b.shape().1;
    let (y, mut tape) = y.split_tape();
    let (out, saved) = Cpu.learned_projection_forward(&host(&y), &host(b), n, l, k);
    let out: Mat<E, NoneTape> = y.device().tensor_from_vec(out.into_vec(), (n, l));
    if T::OWNS_TAPE {
        let (yg, bg, og) = (y.ghost(), b.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let g = Buf::from_vec(grad_of!(grads, og));
            let (dy, db) = Cpu.learned_projection_backward(&saved, &g);
            accumulate!(grads, yg, dy);
            accumulate!(grads, bg, db);
            Ok(())
        });
    }
    out.put_tape(tape)
}
