//! Reading a run folder's `model.safetensors` back: the model source, the trained
//! parameters and the basis, so a run can be re-evaluated without retraining
//! (`rrae eval`). Every mismatch is an error naming the tensor, never a panic.

use crate::error::{Result, RunError};
use nalgebra::DMatrix;
use rrae_engine::params::ParamSet;
use std::path::Path;

pub struct Saved {
    /// The `.rrae` source the model was trained from, and its path then.
    pub source: String,
    pub file: String,
    pub params: Vec<(String, Vec<usize>, Vec<f32>)>,
    pub basis: Option<DMatrix<f64>>,
}

fn bad(path: &Path, reason: impl Into<String>) -> RunError {
    RunError::read(path.to_path_buf(), reason.into())
}

pub fn read_model(path: &Path) -> Result<Saved> {
    // A regular file only (a FIFO would block, a device never end); weights can be
    // large, so no cap beyond the memory check the run made.
    let mut bytes = vec![];
    std::io::Read::read_to_end(
        &mut rrae_lang::files::open_regular(path).map_err(|e| bad(path, e))?,
        &mut bytes,
    )
    .map_err(|e| bad(path, e.to_string()))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| bad(path, format!("not a model file: {e}")))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(path, format!("corrupt or truncated: {e}")))?;
    let info = meta.metadata().clone().unwrap_or_default();
    let source = info
        .get("source")
        .cloned()
        .ok_or_else(|| bad(path, "no `source` metadata"))?;
    let file = info
        .get("file")
        .cloned()
        .unwrap_or_else(|| "model.rrae".into());
    let mut params = vec![];
    let mut basis = None;
    for (name, view) in st.tensors() {
        let shape = view.shape().to_vec();
        let data = view.data();
        match view.dtype() {
            safetensors::Dtype::F32 => {
                let v = data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                params.push((name, shape, v));
            }
            safetensors::Dtype::F64 if name == "latent.basis" && shape.len() == 2 => {
                let v: Vec<f64> = data
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect();
                basis = Some(DMatrix::from_row_slice(shape[0], shape[1], &v));
            }
            d => return Err(bad(path, format!("tensor {name}: unexpected type {d:?}"))),
        }
    }
    Ok(Saved {
        source,
        file,
        params,
        basis,
    })
}

impl Saved {
    /// Copies the saved values into a freshly lowered parameter set, checking that
    /// every parameter is present with the same shape.
    pub fn restore(&self, into: &mut ParamSet, path: &Path) -> Result<()> {
        for p in &mut into.params {
            let Some((_, shape, data)) = self.params.iter().find(|(n, _, _)| *n == p.name) else {
                return Err(bad(path, format!("no tensor {} in the file", p.name)));
            };
            if *shape != p.shape || data.len() != p.data.len() {
                return Err(bad(
                    path,
                    format!(
                        "tensor {} is {:?}, the model needs {:?}",
                        p.name, shape, p.shape
                    ),
                ));
            }
            p.data.clone_from(data);
        }
        Ok(())
    }
}
