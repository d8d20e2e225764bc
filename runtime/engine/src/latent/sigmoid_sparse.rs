//! `sigmoid_sparse(rho, beta)` (Sparse AE): the encoder ends in a sigmoid; the loss adds
//! the KL sparsity penalty of the latent (kernel: `ops::penalty`).

use super::{LatentForm, LatentKernels, LowerCx};
use crate::error::Result;
use crate::layer::Lowered;
use crate::ops::penalty::sparsity;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_lang::latent::sigmoid_sparse::SigmoidSparse;

pub use crate::ops::penalty::PenaltyKernel as Kernel;

impl LatentForm for SigmoidSparse {
    type State = SigmoidSparse;

    fn lower(&self, cx: &mut LowerCx) -> Result<SigmoidSparse> {
        cx.encoder.push(Lowered::latent_sigmoid(cx.ir));
        Ok(self.clone())
    }

    fn forward<D: LatentKernels<E>, E: Real>(
        s: &SigmoidSparse,
        tape: &mut Tape<D, E>,
        y: Var,
        _: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        // The penalty reads the latent beside the decoder, so both gradients reach
        // the encoder.
        Ok((y, Some(sparsity(tape, y, s.rho, s.beta))))
    }

    fn rank(_: &SigmoidSparse) -> Option<usize> {
        None
    }

    fn sharding(_: &SigmoidSparse) -> super::Sharding {
        super::Sharding::GlobalBatch
    }

    fn label(s: &SigmoidSparse, _: &ParamSet) -> String {
        format!("identity + {}·KL(ρ = {} ‖ mean σ(Y))", s.beta, s.rho)
    }
}
