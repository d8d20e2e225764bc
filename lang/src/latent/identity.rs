//! `identity`: the Long AE (or, with L = k, the Diabolo AE).

use super::{Cx, LatentDef, LatentOp};
use crate::error::Result;
use crate::ir::inference::Inference;
use crate::signature::OpSpec;
use std::fmt;

/// The latent passes unchanged, in training and at inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity;

impl LatentDef for Identity {
    const SPEC: OpSpec = OpSpec {
        name: "identity",
        params: &[],
        positional: 0,
        doc: "Long AE (or a Diabolo AE when L = k)",
    };

    fn check(_: &Cx) -> Result<LatentOp> {
        Ok(Identity.into())
    }

    fn inference(&self) -> Inference {
        Inference::Identity
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "identity")
    }
}
