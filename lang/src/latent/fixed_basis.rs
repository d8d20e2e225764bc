//! `fixed_basis(k, seed)`: the Fix-basis AE of the paper's ablation.

use super::{Cx, LatentDef, LatentOp};
use crate::error::Result;
use crate::ir::inference::{Basis, Inference};
use crate::signature::{p, ArgTy::Int, Dflt, OpSpec};
use std::fmt;

/// `Y ↦ U Uᵀ Y` with U random orthonormal (L × k), drawn from `seed` before training.
#[derive(Clone, Debug, PartialEq)]
pub struct FixedBasis {
    pub k: usize,
    pub seed: u64,
}

impl LatentDef for FixedBasis {
    const SPEC: OpSpec = OpSpec {
        name: "fixed_basis",
        params: &[
            p(
                "k",
                Int,
                Dflt::Required,
                "columns of the random orthonormal basis",
            ),
            p(
                "seed",
                Int,
                Dflt::Absent,
                "seed of the basis (default: train.seed)",
            ),
        ],
        positional: 1,
        doc: "Fix-basis AE: Y ↦ U Uᵀ Y with U random orthonormal, drawn before training",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        let k = cx.rank("k", cx.dim, false)?;
        let seed = cx.at_least("seed", 0)?;
        Ok(FixedBasis {
            k,
            seed: seed.map_or(cx.train.seed, |s| s as u64),
        }
        .into())
    }

    fn inference(&self) -> Inference {
        Inference::Project {
            basis: Basis::Fixed,
            rank: Some(self.k),
        }
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fixed_basis(k={}, seed={})", self.k, self.seed)
    }
}
