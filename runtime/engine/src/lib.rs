//! The rrae engine: the tensors a model computes with, the hand-written ops with their
//! backward (one folder each), the parameters and the optimisers, and the lowering of a
//! checked IR onto them. It knows nothing of run folders, stages or reports: the
//! training and reporting crates build on it (docs/architecture.md).
pub mod backend;
pub mod collective;
pub mod cost;
pub mod device;
pub mod error;
pub mod files;
pub mod latent;
pub mod layer;
pub mod linalg;
pub mod model;
pub mod noise;
pub mod ops;
pub mod optim;
pub mod params;
pub mod pool;
pub mod profile;
pub mod resident;
pub mod scratch;
pub mod tape;
pub mod tensor;
pub mod truncation;

pub use error::{EngineError, Result};
