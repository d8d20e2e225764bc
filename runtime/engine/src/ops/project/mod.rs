//! `project(U)`: `Y ↦ U Uᵀ Y` for an orthonormal basis `U` (L × k). In the row layout
//! (`x = Yᵀ`) that is `x · P` with the constant `P = U Uᵀ`; dfdx's matmul carries the
//! backward. Inference of every SVD-based model and the fine-tuning stage use it.

#[cfg(test)]
mod tests;

use crate::tensor::{Mat, Real};
use dfdx::prelude::*;
use nalgebra::DMatrix;

/// `P = U Uᵀ` as an `L × L` tensor.
pub fn projector<E: Real>(dev: &Cpu, u: &DMatrix<f64>) -> Mat<E>
where
    Cpu: Storage<E>,
{
    let p = u * u.transpose();
    let l = p.nrows();
    let data = crate::linalg::to_rows(&p).into_iter().map(E::of).collect();
    dev.tensor_from_vec(data, (l, l))
}

pub fn project<E: Real, T: Tape<E, Cpu> + Merge<NoneTape>>(x: Mat<E, T>, p: &Mat<E>) -> Mat<E, T>
where
    Cpu: Device<E>,
{
    x.matmul(p.clone())
}
