//! `contractive(beta)`: the Contractive AE.

use super::{Cx, LatentDef, LatentOp};
use crate::error::{ErrorKind, Result};
use crate::ir::inference::Inference;
use crate::ir::node::Node;
use crate::layer::Op;
use crate::signature::{p, ArgTy::Float, Dflt, OpSpec};
use crate::value::fmt_float;
use std::fmt;

/// The encoder ends in a sigmoid after its last linear layer; the loss adds
/// `β·‖∂h/∂x‖²_F`, differentiated through that layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Contractive {
    pub beta: f64,
}

impl LatentDef for Contractive {
    const SPEC: OpSpec = OpSpec {
        name: "contractive",
        params: &[p(
            "beta",
            Float,
            Dflt::Required,
            "weight of the Jacobian penalty",
        )],
        positional: 1,
        doc:
            "Contractive AE: sigmoid latent + β·‖∂h/∂x‖²_F through the encoder's last linear layer",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        match cx.encoder.last() {
            Some(Node {
                op: Op::Linear(_), ..
            }) => {}
            other => {
                let found = other.map_or("nothing (the encoder is empty)".to_string(), |n| {
                    format!("`{}`", n.op)
                });
                return Err(ErrorKind::Unsupported {
                    span: cx.b.span,
                    op: "contractive".into(),
                    reason: format!("the penalty differentiates h = σ(W x + b) through the encoder's last layer, which must be `linear`; it is {found}"),
                    help: "end the encoder with `linear(L)` (no activation after it)".into(),
                }
                .into());
            }
        }
        Ok(Contractive {
            beta: cx.weight("beta")?,
        }
        .into())
    }

    fn inference(&self) -> Inference {
        Inference::Sigmoid
    }

    fn penalty(&self) -> Option<&'static str> {
        Some("β·‖∂h/∂x‖²_F")
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "contractive(beta={})", fmt_float(self.beta))
    }
}
