//! `project(U)`: `Y ↦ U Uᵀ Y` for an orthonormal basis `U` (L × k). In the row layout
//! (`x = Yᵀ`) that is `x · P` with the constant `P = U Uᵀ`, a [`matmul`] whose
//! backward reaches `x` only. Inference of every SVD-based model and the fine-tuning
//! stage use it.

#[cfg(test)]
mod tests;

use crate::error::Result;
use crate::ops::matmul::{matmul, MatmulKernel};
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use nalgebra::DMatrix;

/// `P = U Uᵀ` (L × L, row-major) in `E`, for [`project`].
pub fn projector<E: Real>(u: &DMatrix<f64>) -> Vec<E> {
    let p = u * u.transpose();
    crate::linalg::to_rows(&p).into_iter().map(E::of).collect()
}

/// `x · P` for a projector `p` on the tape (a constant: it gets no gradient).
pub fn project<D: MatmulKernel<E>, E: Real>(tape: &mut Tape<D, E>, x: Var, p: Var) -> Result<Var> {
    matmul(tape, x, p)
}
