//! `vae(beta)`: the variational autoencoder, as the authors' library defines it
//! (`VAE_CNN`, `VAE_MLP` and `loss_generator("VAE")` in `RRAEs`).

use super::{Cx, LatentDef, LatentOp};
use crate::error::Result;
use crate::ir::inference::Inference;
use crate::signature::{p, ArgTy::Float, Dflt, OpSpec};
use crate::value::fmt_float;
use std::fmt;

/// The KL weight when the file gives none: the authors' example (`main-var-CNN.py`,
/// `loss_kwargs = {"beta": 0.001}`), on the same percent relative L2 loss.
pub const VAE_BETA: f64 = 0.001;

/// Two linear L → L maps of the encoder's output y give μ and log σ²; training decodes
/// `z = μ + ε ⊙ exp(½ log σ²)` with ε ~ N(0, I) drawn per step, and the loss adds
/// `β Σ −½ (1 + log σ² − μ² − σ²)` over the batch. Inference decodes μ, and samples
/// are decoded from the prior N(0, I).
#[derive(Clone, Debug, PartialEq)]
pub struct Vae {
    pub beta: f64,
}

impl LatentDef for Vae {
    const SPEC: OpSpec = OpSpec {
        name: "vae",
        params: &[p(
            "beta",
            Float,
            Dflt::Float(VAE_BETA),
            "weight of the KL term, summed over the batch as the authors' library does (0.001)",
        )],
        positional: 1,
        doc: "VAE: μ, log σ² = linear(y); decodes μ + ε·σ in training, μ at inference; loss + β·KL(N(μ, σ²) ‖ N(0, I)); samples from N(0, I)",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        cx.checked_params(&[2, cx.dim, cx.dim + 1])?;
        Ok(Vae {
            beta: cx.weight("beta")?,
        }
        .into())
    }

    fn inference(&self) -> Inference {
        Inference::Variational {
            basis: None,
            rank: None,
            mapped: true,
        }
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vae(beta={})", fmt_float(self.beta))
    }

    /// μ's and log σ²'s weights and biases.
    fn params(&self, dim: usize) -> usize {
        2 * dim * (dim + 1)
    }

    fn penalty(&self) -> Option<&'static str> {
        Some("β·KL(N(μ, σ²) ‖ N(0, I))")
    }

    fn prior(&self) -> bool {
        true
    }

    /// μ, log σ², ε, z and their gradients.
    fn saved(&self, dim: usize) -> usize {
        8 * dim
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_beta_doc_quotes_the_declared_default() {
        let doc = <Vae as LatentDef>::SPEC.params[0].doc;
        assert!(doc.ends_with(&format!("({VAE_BETA})")), "{doc}");
    }
}
