//! rrae training: the trainer's step, the adaptive-k controller, the loader → trainer →
//! monitor stages, the data sets and checkpoints, on top of the engine. Evaluation,
//! plots, artifacts and the run folder's report live in the reporting crate above it.
pub mod checkpoint;
pub mod control;
pub mod data;
pub mod error;
pub mod output;
pub mod schedule;
pub mod train;
pub mod validate;

pub use error::{Result, TrainError};
