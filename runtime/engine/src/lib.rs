//! The rrae engine: the tensors a model computes with, the hand-written ops with their
//! backward (one folder each), the parameters and the optimisers, and the lowering of a
//! checked IR onto them. It knows nothing of run folders, stages or reports: the
//! training and reporting crates build on it (docs/architecture.md).
pub mod adam;
pub mod cost;
pub mod device;
pub mod error;
pub mod files;
pub mod linalg;
pub mod model;
pub mod ops;
pub mod params;
pub mod pool;
pub mod scratch;
pub mod tensor;

pub use error::{Result, RuntimeError};
