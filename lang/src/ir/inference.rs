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
}

impl fmt::Display for Inference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Inference::Identity => write!(f, "identity"),
            Inference::Sigmoid => write!(f, "sigmoid"),
            Inference::LinearStack { l } => write!(f, "linear_stack(l={l})"),
            Inference::Project { basis, rank } => {
                let k = rank.map_or("k*".to_string(), |k| k.to_string());
                match basis {
                    Basis::Common => write!(
                        f,
                        "project(U_f: common basis of the per-batch truncated bases, rank {k})"
                    ),
                    Basis::File(p) => write!(f, "project(U_f: {}, rank {k})", p.display()),
                    Basis::Fixed => write!(f, "project(U_f: the fixed random basis, rank {k})"),
                    Basis::Learned => write!(f, "project(U_f: the learned basis, rank {k})"),
                }
            }
        }
    }
}
