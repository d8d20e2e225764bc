//! `sigmoid_sparse(rho, beta)`: the Sparse AE.

use super::{Cx, LatentDef, LatentOp};
use crate::error::Result;
use crate::ir::inference::Inference;
use crate::signature::{p, ArgTy::Float, Dflt, OpSpec};
use crate::value::fmt_float;
use std::fmt;

/// The encoder ends in a sigmoid; the loss adds `β·KL(ρ ‖ mean activation)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmoidSparse {
    pub rho: f64,
    pub beta: f64,
}

impl LatentDef for SigmoidSparse {
    const SPEC: OpSpec = OpSpec {
        name: "sigmoid_sparse",
        params: &[
            p(
                "rho",
                Float,
                Dflt::Required,
                "target mean activation, in (0, 1)",
            ),
            p(
                "beta",
                Float,
                Dflt::Float(1.0),
                "weight of the KL sparsity penalty",
            ),
        ],
        positional: 2,
        doc: "Sparse AE: sigmoid latent + β·KL(ρ ‖ mean activation)",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        Ok(SigmoidSparse {
            rho: cx.float_in("rho", 0.0, 1.0, "ρ is a target mean activation in (0, 1)")?,
            beta: cx.weight("beta")?,
        }
        .into())
    }

    fn inference(&self) -> Inference {
        Inference::Sigmoid
    }

    fn penalty(&self) -> Option<&'static str> {
        Some("β·KL(ρ ‖ mean activation)")
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rho, beta) = (fmt_float(self.rho), fmt_float(self.beta));
        write!(f, "sigmoid_sparse(rho={rho}, beta={beta})")
    }
}
