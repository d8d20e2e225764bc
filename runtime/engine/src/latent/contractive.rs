//! `contractive(beta)` (Contractive AE): the encoder ends in a sigmoid after its last
//! linear layer, whose weight the Jacobian penalty reads (kernel: `ops::penalty`).

use super::{LatentForm, LatentKernels, LowerCx};
use crate::error::{EngineError, Result};
use crate::layer::{Layer, Lowered};
use crate::ops::penalty::contractive;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_lang::latent::contractive::Contractive;

pub use crate::ops::penalty::PenaltyKernel as Kernel;

/// The penalty's weight and the parameter index of `W` in h = σ(W x + b).
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub beta: f64,
    pub w: usize,
}

impl LatentForm for Contractive {
    type State = State;

    fn lower(&self, cx: &mut LowerCx) -> Result<State> {
        // The checker guarantees the encoder ends in `linear`.
        let w = cx
            .encoder
            .iter()
            .rev()
            .find_map(|l| {
                // The penalty differentiates through the last linear layer.
                if let Layer::Linear(d) = &l.layer {
                    Some(d.w)
                } else {
                    None
                }
            })
            .ok_or_else(|| EngineError::Unsupported {
                what: "`contractive` on an encoder without a linear layer".into(),
                hint: "end the encoder with `linear(L)`".into(),
            })?;
        cx.encoder.push(Lowered::latent_sigmoid(cx.ir));
        Ok(State { beta: self.beta, w })
    }

    fn forward<D: LatentKernels<E>, E: Real>(
        s: &State,
        tape: &mut Tape<D, E>,
        y: Var,
        params: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        Ok((y, Some(contractive(tape, y, params[s.w], s.beta))))
    }

    fn rank(_: &State) -> Option<usize> {
        None
    }

    fn sharding(_: &State) -> super::Sharding {
        super::Sharding::Unsupported("its penalty differentiates h = σ(W x + b) through the encoder's last linear layer over the whole batch, so every rank would add W's penalty gradient once more; a per-shard penalty is not written yet")
    }

    fn label(s: &State, params: &ParamSet) -> String {
        format!(
            "identity + {}·‖∂h/∂x‖² (weight {})",
            s.beta,
            params.params.get(s.w).map_or("?", |p| p.name.as_str())
        )
    }
}
