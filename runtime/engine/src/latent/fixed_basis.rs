//! `fixed_basis(k, seed)` (Fix-basis AE): projection on a random orthonormal basis
//! drawn before training (kernel: the projection of `project`).

use super::project::project_on;
use super::{LatentKernels, BasisSource, LatentForm, LowerCx};
use crate::error::Result;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use nalgebra::DMatrix;
use rrae_lang::latent::fixed_basis::FixedBasis;

pub use crate::ops::matmul::MatmulKernel as Kernel;

impl LatentForm for FixedBasis {
    type State = DMatrix<f64>;

    fn lower(&self, cx: &mut LowerCx) -> Result<DMatrix<f64>> {
        Ok(random_orthonormal(cx.ir.latent.dim, self.k, self.seed))
    }

    fn forward<D: LatentKernels<E>, E: Real>(
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

    fn label(basis: &DMatrix<f64>, _: &ParamSet) -> String {
        format!("project({} × {})", basis.nrows(), basis.ncols())
    }

    fn basis(basis: &DMatrix<f64>, _: &ParamSet) -> BasisSource {
        BasisSource::Fixed(basis.clone())
    }
}

/// An `l × k` matrix with orthonormal columns, drawn from `seed`: the Q of a Gaussian
/// matrix (the Fix-basis AE's U).
pub fn random_orthonormal(l: usize, k: usize, seed: u64) -> nalgebra::DMatrix<f64> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let g = nalgebra::DMatrix::<f64>::from_fn(l, k, |_, _| StandardNormal.sample(&mut rng));
    g.qr().q()
}
