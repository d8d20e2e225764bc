//! `vrrae(k, beta)`: the variational RRAE of Mounayer et al. (2025), as the authors'
//! library defines it (`VRRAE_CNN`, `latent_func_var_strong_RRAE` and
//! `loss_generator("VRRAE")` in `RRAEs`).

use super::svd_truncate::{Rank, RANK_PARAMS};
use super::{Cx, LatentDef, LatentOp};
use crate::error::Result;
use crate::ir::inference::{Basis, Inference};
use crate::signature::{
    p,
    ArgTy::{Float, Word},
    Dflt, OpSpec, ParamSpec,
};
use crate::value::fmt_float;
use std::fmt;

/// The KL weight when the file gives none: the authors' VRRAE example
/// (`main-var-CNN.py`, `loss_kwargs = {"beta": 0.001}`).
pub const VRRAE_BETA: f64 = 0.001;

/// The words of `mean = …`: the library's `typ` values.
const MEANS: &[&str] = &["eye", "trainable"];

/// `svd_truncate`'s parameters, then `beta` and `mean`.
const PARAMS: [ParamSpec; 12] = {
    let beta = p(
        "beta",
        Float,
        Dflt::Float(VRRAE_BETA),
        "weight of the KL term of the coefficients, summed over the batch as the authors' library does (0.001)",
    );
    let mut out = [beta; 12];
    let mut i = 0;
    while i < RANK_PARAMS.len() {
        out[i] = RANK_PARAMS[i];
        i += 1;
    }
    out[11] = p(
        "mean",
        Word(MEANS),
        Dflt::Word("eye"),
        "the Gaussian's mean: the coefficients themselves (eye) or a trained k → k linear map of them (trainable); the library's typ (eye)",
    );
    out
};

/// The batch's truncated SVD `Y ≈ U_k C` gives the mean of a Gaussian, the coefficients
/// C themselves (the library's default `typ = "eye"`) or a trainable linear k → k map of
/// them (`mean = trainable`, its `typ = "trainable"`), and another such map of C its
/// log-variance; training decodes `U_k (C + ε ⊙ σ)` with ε ~ N(0, I_k) drawn
/// per step, and the loss adds `β Σ −½ (1 + log σ² − C² − σ²)` over the batch.
/// Inference projects on the common basis U_f as the RRAE does (C = U_fᵀ y, the mean),
/// and samples are decoded from the prior: `U_f ε`, ε ~ N(0, I_k).
#[derive(Clone, Debug, PartialEq)]
pub struct Vrrae {
    /// The kept rank, fixed or searched, exactly as `svd_truncate` takes it.
    pub rank: Rank,
    pub beta: f64,
    /// Columns of the log-variance map: k for a fixed rank, min(batch, L) where the rank
    /// moves (the map's leading block serves the current rank).
    pub width: usize,
    /// `mean = trainable`: μ is a trained linear map of C (as wide as the log-variance
    /// map), not C itself.
    pub mean_map: bool,
}

impl LatentDef for Vrrae {
    const SPEC: OpSpec = OpSpec {
        name: "vrrae",
        params: &PARAMS,
        positional: 1,
        doc: "VRRAE: Y ≈ U_k C per batch; decodes U_k (μ + ε·σ) with μ = C (or linear(C), mean = trainable) and log σ² = linear(C) in training; loss + β·KL(N(μ, σ²) ‖ N(0, I)); inference projects on U_f; samples U_f ε",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        // The rank is checked as `svd_truncate` checks it; k = L keeps every mode, which
        // for the variational form is still a Gaussian in the full SVD's coordinates.
        let rank = match <Rank as LatentDef>::check(cx)? {
            LatentOp::SvdTruncate(rank) => rank,
            _ => Rank::Fixed(cx.dim),
        };
        let width = match rank {
            Rank::Fixed(k) => k,
            Rank::Annealed { .. } | Rank::Descended { .. } | Rank::Adaptive { .. } => cx.k_max,
        };
        let mean_map = cx.b.word("mean") == Some("trainable");
        cx.checked_params(&[width, width + 1, 1 + usize::from(mean_map)])?;
        if mean_map {
            cx.checked_params(&[cx.dim, cx.dim + 1])?;
        }
        Ok(Vrrae {
            rank,
            beta: cx.weight("beta")?,
            width,
            mean_map,
        }
        .into())
    }

    fn inference(&self) -> Inference {
        let rank = match self.rank.inference() {
            Inference::Project { rank, .. } => rank,
            Inference::Identity
            | Inference::Sigmoid
            | Inference::LinearStack { .. }
            | Inference::Variational { .. } => None,
        };
        Inference::Variational {
            basis: Some(Basis::Common),
            rank,
            mapped: self.mean_map,
        }
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `svd_truncate(k=…, …)`'s arguments, then β.
        let rank = LatentOp::SvdTruncate(self.rank.clone()).to_string();
        let args = rank
            .strip_prefix("svd_truncate(")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or(&rank);
        write!(f, "vrrae({args}, beta={}", fmt_float(self.beta))?;
        if self.mean_map {
            write!(f, ", mean=trainable")?;
        }
        write!(f, ")")
    }

    /// The log-variance map's weight and bias; with `mean = trainable` the mean map's
    /// too, and the L × L inference layer the trained map is folded into once U_f is
    /// known (a parameter of the artifact, never trained).
    fn params(&self, dim: usize) -> usize {
        let map = self.width * (self.width + 1);
        match self.mean_map {
            true => 2 * map + dim * (dim + 1),
            false => map,
        }
    }

    fn rank_control(&self) -> Option<&Rank> {
        Some(&self.rank)
    }

    fn penalty(&self) -> Option<&'static str> {
        Some(match self.mean_map {
            true => "β·KL(N(μ, σ²) ‖ N(0, I))",
            false => "β·KL(N(C, σ²) ‖ N(0, I))",
        })
    }

    fn prior(&self) -> bool {
        true
    }

    /// Beside the RRAE's four latents: C, log σ², ε and z with gradients (k each), and
    /// μ with its gradient where it is a map of C.
    fn saved(&self, dim: usize) -> usize {
        4 * dim + 8 * self.width + if self.mean_map { 2 * self.width } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameters_are_svd_truncates_then_beta_and_mean_with_their_declared_defaults() {
        let names: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
        assert_eq!(names[..10], RANK_PARAMS.map(|p| p.name)[..]);
        assert_eq!(names[10..], ["beta", "mean"]);
        assert!(PARAMS[10].doc.ends_with(&format!("({VRRAE_BETA})")));
        assert!(PARAMS[11].doc.ends_with("(eye)"));
        assert_eq!(PARAMS[11].default, Dflt::Word(MEANS[0]));
    }
}
