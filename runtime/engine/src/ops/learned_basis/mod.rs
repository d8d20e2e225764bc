//! The Learn-basis AE's latent map: `Y ↦ Û Ûᵀ Y` with a trainable `B` (L × k) whose
//! columns are normalised, `Û = B diag(‖b_j‖)⁻¹`. Unlike the SVD projector the basis
//! is a parameter, so the backward reaches both `Y` and `B`:
//!
//! with rows as samples, `z = y Û Ûᵀ`, `G = ∂ℓ/∂z`:
//! `∂ℓ/∂y = G Û Ûᵀ`, `∂ℓ/∂Û = (yᵀG + Gᵀy) Û`, and through the normalisation
//! `∂ℓ/∂b_j = (I − û_j û_jᵀ) ∂ℓ/∂û_j / ‖b_j‖`.

#[cfg(test)]
mod tests;

use crate::linalg::{from_rows, to_rows};
use crate::ops::tape::{accumulate, grad_of};
use crate::tensor::{Mat, Real};
use dfdx::prelude::*;
use nalgebra::DMatrix;

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
pub fn learned_projection<E: Real, T: Tape<E, Cpu>>(y: Mat<E, T>, b: &Mat<E>) -> Mat<E, T> {
    let (n, l) = *y.shape();
    let k = b.shape().1;
    let (y, mut tape) = y.split_tape();
    let to64 = |v: Vec<E>| v.iter().map(|x| x.f64()).collect::<Vec<f64>>();
    let ym = from_rows(&to64(y.as_vec()), n, l);
    let bm = from_rows(&to64(b.as_vec()), l, k);
    let u = normalised(&bm);
    let z = &ym * &u * u.transpose();
    let out: Mat<E, NoneTape> = y
        .device()
        .tensor_from_vec(to_rows(&z).into_iter().map(E::of).collect(), (n, l));
    if T::OWNS_TAPE {
        let (yg, bg, og) = (y.ghost(), b.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let g = from_rows(&to64(grad_of!(grads, og)), n, l);
            let dy = &g * &u * u.transpose();
            let du = (ym.transpose() * &g + g.transpose() * &ym) * &u;
            let mut db = DMatrix::<f64>::zeros(l, k);
            for j in 0..k {
                let norm = bm.column(j).norm();
                if norm > 0.0 {
                    let (uj, dj) = (u.column(j), du.column(j));
                    let t = (dj - uj * uj.dot(&dj)) / norm;
                    db.set_column(j, &t);
                }
            }
            let dy: Vec<E> = to_rows(&dy).into_iter().map(E::of).collect();
            let db: Vec<E> = to_rows(&db).into_iter().map(E::of).collect();
            accumulate!(grads, yg, dy);
            accumulate!(grads, bg, db);
            Ok(())
        });
    }
    out.put_tape(tape)
}
