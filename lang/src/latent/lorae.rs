//! `lorae(lambda)`: the low-rank autoencoder of Mazumder et al. (2023), the authors'
//! library's `LoRAE_CNN` / `LoRAE_MLP` with `loss_generator("nuc")`.

use super::{Cx, LatentDef, LatentOp};
use crate::error::Result;
use crate::ir::inference::Inference;
use crate::signature::{p, ArgTy::Float, Dflt, OpSpec};
use crate::value::fmt_float;
use std::fmt;

/// The penalty's weight when the file gives none: the library's `lambda_nuc` default.
pub const LORAE_LAMBDA: f64 = 0.001;

/// One bias-free L × L linear layer ends the encoder, in training and at inference (an
/// IRMAE with one layer), and the loss adds `λ‖W‖_*`, the nuclear norm of its weight.
///
/// The library's `MLP_with_linear` applies `layers_l[:-1]`, so with its one layer the
/// penalised matrix never touches the latent there; rrae applies it, as the LoRAE paper
/// and the library's own docstring describe (docs/language.md).
#[derive(Clone, Debug, PartialEq)]
pub struct Lorae {
    pub lambda: f64,
}

impl LatentDef for Lorae {
    const SPEC: OpSpec = OpSpec {
        name: "lorae",
        params: &[p(
            "lambda",
            Float,
            Dflt::Float(LORAE_LAMBDA),
            "weight of the nuclear norm of the latent layer's weight (0.001)",
        )],
        positional: 1,
        doc: "LoRAE: one bias-free linear L×L layer before the latent, loss + λ·‖W‖_* (its nuclear norm)",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        cx.checked_params(&[cx.dim, cx.dim])?;
        Ok(Lorae {
            lambda: cx.weight("lambda")?,
        }
        .into())
    }

    fn inference(&self) -> Inference {
        Inference::LinearStack { l: 1 }
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lorae(lambda={})", fmt_float(self.lambda))
    }

    fn penalty(&self) -> Option<&'static str> {
        Some("λ‖W‖_*")
    }

    fn params(&self, dim: usize) -> usize {
        dim * dim
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lambda_doc_quotes_the_declared_default() {
        let doc = <Lorae as LatentDef>::SPEC.params[0].doc;
        assert!(doc.ends_with(&format!("({LORAE_LAMBDA})")), "{doc}");
    }
}
