//! The artifact's content. These are the owned types a writer fills in; rkyv derives
//! their archived twins (`ArchivedArtifact`, …), which readers use in place.
//!
//! Conventions (the runtime's): tensors are row-major f32; a linear weight is
//! `[in, out]`; a conv weight `[out, in·kh·kw]`; a transposed conv weight
//! `[in, out·kh·kw]`; the basis U_f is `[L, k]`. Samples are flattened `C·H·W`.

use crate::layer::Layer;
use alloc::string::String;
use alloc::vec::Vec;
use rkyv::{Archive, Deserialize, Serialize};

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Artifact {
    /// The model's name in the source.
    pub name: String,
    /// The `.rrae` text it was trained from, and its FNV-1a hash.
    pub source: String,
    pub source_hash: u64,
    /// The checked IR in its inference form, as `rrae check` prints it.
    pub ir: String,
    /// One sample's shape, e.g. `[1, 64, 64]`.
    pub input: Vec<u32>,
    /// L, the latent length.
    pub latent_dim: u32,
    pub encoder: Vec<Layer>,
    pub latent: Latent,
    pub decoder: Vec<Layer>,
    pub tensors: Vec<Tensor>,
    pub norm: Norm,
    /// Mean (k) and covariance (k × k, row-major) of the training coefficients.
    pub coefficient_mean: Vec<f64>,
    pub coefficient_cov: Vec<f64>,
    /// A few training samples (original units), for demos and self-checks.
    pub examples: Vec<f32>,
    pub dataset: DatasetSummary,
    pub training: TrainingSummary,
    /// The training samples' parameters and coefficients, for the reduced-order path
    /// (`View::decode_at`); `None` for data without parameters.
    pub parameters: Option<ParamMap>,
}

/// How basis coefficients are interpolated over the training parameters.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum ParamMap {
    /// The parameters form a full grid: multilinear interpolation in its cells (the
    /// authors' `AE_interpolate`).
    Grid(ParamGrid),
    /// Scattered parameters (a Latin hypercube, measured operating points): a cubic
    /// polyharmonic radial basis function with a linear tail ([`crate::rbf`]).
    Scattered(ParamRbf),
}

/// The training samples' parameters, a full grid, and their basis coefficients.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ParamGrid {
    /// Each parameter's distinct values, increasing.
    pub axes: Vec<Vec<f64>>,
    /// k coefficients per grid point, the points in flat order (last axis fastest).
    pub coefficients: Vec<f32>,
}

/// A radial basis function interpolant of the coefficients over scattered
/// parameters, in coordinates scaled to the training box (each parameter's training
/// range mapped to [0, 1]).
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ParamRbf {
    /// Each parameter's training minimum and maximum.
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    /// The training samples' scaled parameters, `dim` per sample.
    pub centres: Vec<f64>,
    /// The kernel weights, `k` per training sample.
    pub weights: Vec<f64>,
    /// The linear tail: `k` constants, then `k` per parameter.
    pub linear: Vec<f64>,
}

/// The latent map at inference.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum Latent {
    /// Coefficients are the latent itself (Long AE).
    Identity,
    /// `α = U_fᵀ y`, `z = U_f α`; `basis` indexes `tensors` (`[L, k]`).
    Project { basis: u32 },
}

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<u32>,
    pub data: Vec<f32>,
}

/// `x_model = (x − shift) / scale`.
#[derive(Archive, Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Norm {
    pub shift: f64,
    pub scale: f64,
}

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DatasetSummary {
    pub name: String,
    pub train_samples: u64,
    pub test_samples: u64,
}

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrainingSummary {
    pub seed: u64,
    pub train_steps: u64,
    pub fine_tune_steps: u64,
    /// k (k* for an adaptive run); `None` for models without a basis.
    pub k: Option<u32>,
    /// Relative L2 errors in %, original units.
    pub train_error: f64,
    pub test_error: f64,
    pub interpolation_error: Option<f64>,
    pub wall_seconds: f64,
}
