//! `project(basis, k)`: projection on a fixed basis read from a `.npy` file.

use super::{Cx, LatentDef, LatentOp};
use crate::error::{ErrorKind, Result};
use crate::ir::inference::{Basis, Inference};
use crate::probe;
use crate::signature::{p, ArgTy::*, Dflt, OpSpec};
use std::fmt;
use std::path::PathBuf;

/// `Y ↦ U_f U_fᵀ Y` with the first `columns` columns of the L × r array in `basis`.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    pub basis: PathBuf,
    pub columns: usize,
}

impl LatentDef for Project {
    const SPEC: OpSpec = OpSpec {
        name: "project",
        params: &[
            p(
                "basis",
                Str,
                Dflt::Required,
                ".npy file holding U_f, [L, r]",
            ),
            p("k", Int, Dflt::Absent, "use the first k columns"),
        ],
        positional: 1,
        doc: "project the latent on a fixed basis from a file: Y ↦ U_f U_fᵀ Y",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        let b = cx.b;
        let rel = b.str("basis").unwrap_or_default();
        let path = crate::loader::join(cx.dir, rel);
        let h = probe::npy_file(&path).map_err(|reason| ErrorKind::DataFile {
            span: b.span("basis"),
            path: rel.to_string(),
            reason,
        })?;
        let cols = h.sample.first().copied().unwrap_or(0);
        if h.count != cx.dim || h.sample.len() != 1 {
            return Err(ErrorKind::InvalidValue {
                span: b.span("basis"),
                what: "basis".into(),
                value: format!("an array of shape [{}, {:?}]", h.count, h.sample),
                reason: format!("U_f must be [L, r] = [{}, r]", cx.dim),
            }
            .into());
        }
        let columns = if b.get("k").is_some() {
            cx.rank("k", cols.min(cx.dim), false)?
        } else {
            cols
        };
        Ok(Project {
            basis: path,
            columns,
        }
        .into())
    }

    fn inference(&self) -> Inference {
        Inference::Project {
            basis: Basis::File(self.basis.clone()),
            rank: Some(self.columns),
        }
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.basis.display().to_string();
        write!(f, "project(basis={path:?}, k={})", self.columns)
    }
}
