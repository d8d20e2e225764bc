//! `weak_svd(k, beta)` (Weak RRAE): the latent passes unchanged and the loss adds
//! `β‖Y − Y_k‖` (kernel: `ops::penalty`); inference projects on the common basis.

use super::{BasisSource, LatentForm, LatentKernels, LowerCx};
use crate::error::Result;
use crate::ops::penalty::weak;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_lang::latent::weak_svd::WeakSvd;

pub use crate::ops::penalty::PenaltyKernel as Kernel;

impl LatentForm for WeakSvd {
    type State = WeakSvd;

    fn lower(&self, _: &mut LowerCx) -> Result<WeakSvd> {
        Ok(self.clone())
    }

    fn forward<D: LatentKernels<E>, E: Real>(
        s: &WeakSvd,
        tape: &mut Tape<D, E>,
        y: Var,
        _: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        Ok((y, Some(weak(tape, y, s.k, s.beta))))
    }

    fn rank(s: &WeakSvd) -> Option<usize> {
        Some(s.k)
    }

    fn sharding(_: &WeakSvd) -> super::Sharding {
        super::Sharding::GlobalBatch
    }

    fn label(s: &WeakSvd, _: &ParamSet) -> String {
        format!("identity + {}·‖Y − Y_{}‖", s.beta, s.k)
    }

    fn basis(s: &WeakSvd, _: &ParamSet) -> BasisSource {
        BasisSource::Common { k: s.k }
    }
}
