//! `fixed_basis(k, seed)` (Fix-basis AE): projection on a random orthonormal basis
//! drawn before training (kernel: the projection of `project`).

use super::{BasisSource, LatentForm, LatentKernels, LowerCx};
use crate::error::Result;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use nalgebra::DMatrix;
use rrae_lang::latent::fixed_basis::FixedBasis;
use rrae_lang::latent::project::Project;

pub use crate::ops::matmul::MatmulKernel as Kernel;

impl LatentForm for FixedBasis {
    type State = DMatrix<f64>;

    fn lower(&self, cx: &mut LowerCx) -> Result<DMatrix<f64>> {
        Ok(random_orthonormal(cx.ir.latent.dim, self.k, self.seed))
    }

    // Past lowering it is a fixed projection, as `project`'s.
    fn forward<D: LatentKernels<E>, E: Real>(
        basis: &DMatrix<f64>,
        tape: &mut Tape<D, E>,
        y: Var,
        params: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        <Project as LatentForm>::forward(basis, tape, y, params)
    }

    fn rank(basis: &DMatrix<f64>) -> Option<usize> {
        <Project as LatentForm>::rank(basis)
    }

    fn sharding(_: &DMatrix<f64>) -> super::Sharding {
        super::Sharding::GlobalBatch
    }

    fn label(basis: &DMatrix<f64>, params: &ParamSet) -> String {
        <Project as LatentForm>::label(basis, params)
    }

    fn basis(basis: &DMatrix<f64>, params: &ParamSet) -> BasisSource {
        <Project as LatentForm>::basis(basis, params)
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
