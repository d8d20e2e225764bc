//! The rrae runtime: lowers checked IR onto dfdx tensors, trains, evaluates and saves.
pub mod adam;
pub mod artifact;
pub mod checkpoint;
pub mod classifier;
pub mod compare;
pub mod control;
pub mod cost;
pub mod data;
pub mod error;
pub mod eval;
pub mod fid;
pub mod linalg;
pub mod load;
pub mod model;
pub mod ops;
pub mod output;
pub mod params;
pub mod plot;
pub mod run;
pub mod schedule;
pub mod tensor;
pub mod train;

pub use error::{Result, RuntimeError};
