//! `linear_stack(l)`: IRMAE.

use super::{Cx, LatentDef, LatentOp};
use crate::error::Result;
use crate::ir::inference::Inference;
use crate::signature::{p, ArgTy::Int, Dflt, OpSpec};
use std::fmt;

/// `l` bias-free L×L linear layers end the encoder, in training and at inference.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearStack {
    pub l: usize,
}

impl LatentDef for LinearStack {
    const SPEC: OpSpec = OpSpec {
        name: "linear_stack",
        params: &[p(
            "l",
            Int,
            Dflt::Required,
            "number of extra linear layers (≥ 1)",
        )],
        positional: 1,
        doc: "IRMAE: l bias-free linear L×L layers before the latent",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        let l = cx.at_least("l", 1)?.unwrap_or(1);
        if l > 64 {
            return Err(cx.too_large("l", "`l`"));
        }
        cx.checked_params(&[l, cx.dim, cx.dim])?;
        Ok(LinearStack { l }.into())
    }

    fn inference(&self) -> Inference {
        Inference::LinearStack { l: self.l }
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "linear_stack(l={})", self.l)
    }

    fn params(&self, dim: usize) -> usize {
        self.l * dim * dim
    }
}
