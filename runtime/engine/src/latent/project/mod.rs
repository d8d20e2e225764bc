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

pub use crate::ops::matmul::MatmulKernel as Kernel;

/// The training form: the basis read from its file, checked against L × k.
impl super::LatentForm for rrae_lang::latent::project::Project {
    type State = DMatrix<f64>;

    fn lower(&self, cx: &mut super::LowerCx) -> Result<DMatrix<f64>> {
        let l = cx.ir.latent.dim;
        let (h, data) = crate::files::read_npy(&self.basis)?;
        let rows = h.count;
        if rows != l || h.sample != vec![self.columns] {
            return Err(crate::EngineError::Data {
                path: self.basis.clone(),
                reason: format!(
                    "basis is {rows} × {:?}, expected {l} × {}",
                    h.sample, self.columns
                ),
            });
        }
        Ok(DMatrix::from_row_iterator(
            rows,
            self.columns,
            data.iter().map(|&v| v as f64),
        ))
    }

    fn forward<D: super::LatentKernels<E>, E: Real>(
        basis: &DMatrix<f64>,
        tape: &mut Tape<D, E>,
        y: Var,
        _: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        Ok((project_on(tape, y, basis)?, None))
    }

    fn rank(basis: &DMatrix<f64>) -> Option<usize> {
        Some(basis.ncols())
    }

    fn sharding(_: &DMatrix<f64>) -> crate::latent::Sharding {
        crate::latent::Sharding::GlobalBatch
    }

    fn label(basis: &DMatrix<f64>, _: &crate::params::ParamSet) -> String {
        format!("project({} × {})", basis.nrows(), basis.ncols())
    }

    fn basis(basis: &DMatrix<f64>, _: &crate::params::ParamSet) -> super::BasisSource {
        super::BasisSource::Fixed(basis.clone())
    }
}

/// `y · U Uᵀ` for the basis `u` (a constant on the tape), the training form of every
/// operator with a basis fixed before training.
pub fn project_on<D: MatmulKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    y: Var,
    u: &DMatrix<f64>,
) -> Result<Var> {
    let l = u.nrows();
    let p = tape.dev().upload(&projector::<E>(u));
    let p = tape.constant(p, l, l);
    project(tape, y, p)
}
