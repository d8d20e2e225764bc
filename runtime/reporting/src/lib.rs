//! rrae reporting: evaluation as the paper does it, the FID, plots, the compare tables,
//! artifact writing and the run folder, on top of training and the engine.
pub mod artifact;
pub mod classifier;
pub mod command;
pub mod compare;
pub mod error;
pub mod eval;
pub mod fid;
pub mod figures;
pub mod inception;
pub mod load;
pub mod lock;
pub mod plot;
pub mod report;
pub mod run;
pub mod signals;
pub mod sweep;

pub use error::{Result, RunError};
