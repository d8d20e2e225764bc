//! `learned_basis(k)`: the Learn-basis AE of the paper's ablation.

use super::{Cx, LatentDef, LatentOp};
use crate::error::Result;
use crate::ir::inference::{Basis, Inference};
use crate::signature::{p, ArgTy::Int, Dflt, OpSpec};
use std::fmt;

/// `Y ↦ Û Ûᵀ Y` with Û the column-normalised trainable L×k matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnedBasis {
    pub k: usize,
}

impl LatentDef for LearnedBasis {
    const SPEC: OpSpec = OpSpec {
        name: "learned_basis",
        params: &[p(
            "k",
            Int,
            Dflt::Required,
            "columns of the trainable basis",
        )],
        positional: 1,
        doc: "Learn-basis AE: Y ↦ Û Ûᵀ Y with Û the column-normalised trainable L×k matrix",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        let k = cx.rank("k", cx.dim, false)?;
        Ok(LearnedBasis { k }.into())
    }

    fn inference(&self) -> Inference {
        Inference::Project {
            basis: Basis::Learned,
            rank: Some(self.k),
        }
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "learned_basis(k={})", self.k)
    }

    fn params(&self, dim: usize) -> usize {
        dim * self.k
    }
}
