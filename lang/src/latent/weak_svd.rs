//! `weak_svd(k, beta)`: the Weak RRAE of the paper's ablation.

use super::{Cx, LatentDef, LatentOp};
use crate::error::Result;
use crate::ir::inference::{Basis, Inference};
use crate::signature::{p, ArgTy::*, Dflt, OpSpec};
use crate::value::fmt_float;
use std::fmt;

/// The latent passes unchanged; the loss adds `β‖Y − Y_k‖`. Inference projects on
/// the common basis, as an RRAE's does.
#[derive(Clone, Debug, PartialEq)]
pub struct WeakSvd {
    pub k: usize,
    pub beta: f64,
}

impl LatentDef for WeakSvd {
    const SPEC: OpSpec = OpSpec {
        name: "weak_svd",
        params: &[
            p("k", Int, Dflt::Required, "rank of the penalty's target"),
            p("beta", Float, Dflt::Float(1.0), "weight of ‖Y − Y_k‖"),
        ],
        positional: 2,
        doc: "Weak RRAE: long latent + β·‖Y − Y_k‖ in the loss",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        Ok(WeakSvd {
            k: cx.batch_rank("k")?,
            beta: cx.weight("beta")?,
        }
        .into())
    }

    fn inference(&self) -> Inference {
        Inference::Project {
            basis: Basis::Common,
            rank: Some(self.k),
        }
    }

    fn penalty(&self) -> Option<&'static str> {
        Some("β·‖Y − Y_k‖_F")
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "weak_svd(k={}, beta={})", self.k, fmt_float(self.beta))
    }
}
