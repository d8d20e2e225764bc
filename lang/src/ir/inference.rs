//! The latent operator's inference form: what replaces it once training ends, and so
//! what the artifact holds.

use std::fmt;
use std::path::PathBuf;

/// Where the inference-time basis U_f comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Basis {
    /// Concatenated per-batch truncated bases, SVD'd again after training (§4.2).
    Common,
    File(PathBuf),
    /// The random orthonormal basis drawn before training.
    Fixed,
    /// The trained basis matrix, columns normalised.
    Learned,
}

impl Basis {
    /// Where U_f comes from, as `rrae check` prints it.
    pub fn describe(&self) -> String {
        match self {
            Basis::Common => "common basis of the per-batch truncated bases".into(),
            Basis::File(p) => p.display().to_string(),
            Basis::Fixed => "the fixed random basis".into(),
            Basis::Learned => "the learned basis".into(),
        }
    }
}

/// The latent operator in its inference form.
#[derive(Clone, Debug, PartialEq)]
pub enum Inference {
    Identity,
    Sigmoid,
    LinearStack {
        l: usize,
    },
    /// `Y ↦ U_f U_fᵀ Y`; `rank` is k, or `None` when the adaptive search decides it.
    Project {
        basis: Basis,
        rank: Option<usize>,
    },
    /// A variational latent at inference: the mean of its Gaussian, with samples drawn
    /// from the prior N(0, I). Without a basis (the VAE) μ is a linear map of y; with
    /// one (the VRRAE) μ is the coefficients on U_f, or a trained linear map of them
    /// where `mapped` (`mean = trainable`), `rank` as for `Project`.
    Variational {
        basis: Option<Basis>,
        rank: Option<usize>,
        mapped: bool,
    },
}

impl fmt::Display for Inference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = |rank: &Option<usize>| rank.map_or("k*".to_string(), |k| k.to_string());
        match self {
            Inference::Variational { basis: None, .. } => {
                write!(f, "μ = linear(y) (L × L); samples from N(0, I_L)")
            }
            Inference::Variational {
                basis: Some(basis),
                rank,
                mapped,
            } => write!(
                f,
                "project(U_f: {}, rank {}); μ = {}; samples from N(0, I_{})",
                basis.describe(),
                k(rank),
                if *mapped {
                    "latent.mean(U_fᵀ y), folded with U_f into one L × L layer"
                } else {
                    "U_fᵀ y"
                },
                k(rank)
            ),
            Inference::Identity => write!(f, "identity"),
            Inference::Sigmoid => write!(f, "sigmoid"),
            Inference::LinearStack { l } => write!(f, "linear_stack(l={l})"),
            Inference::Project { basis, rank } => {
                write!(f, "project(U_f: {}, rank {})", basis.describe(), k(rank))
            }
        }
    }
}
