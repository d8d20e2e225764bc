//! `identity`: the latent passes unchanged.

use super::{LatentForm, LatentKernels, LowerCx};
use crate::error::Result;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_lang::latent::identity::Identity;

pub use crate::tape::TapeKernel as Kernel;

impl LatentForm for Identity {
    type State = ();

    fn lower(&self, _: &mut LowerCx) -> Result<()> {
        Ok(())
    }

    fn forward<D: LatentKernels<E>, E: Real>(
        _: &(),
        _: &mut Tape<D, E>,
        y: Var,
        _: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        Ok((y, None))
    }

    fn rank(_: &()) -> Option<usize> {
        None
    }

    fn sharding(_: &()) -> super::Sharding {
        super::Sharding::GlobalBatch
    }

    fn label(_: &(), _: &ParamSet) -> String {
        "identity".into()
    }
}
