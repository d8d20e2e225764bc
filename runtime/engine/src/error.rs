//! Runtime errors: data files, unsupported operators, numeric failures, output files.
//! Each variant names what failed and how to fix it.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum RuntimeError {
    /// A data or basis file could not be read or is malformed (truncated, wrong size).
    Data { path: PathBuf, reason: String },
    /// The model uses something this runtime does not train yet.
    Unsupported { what: String, hint: String },
    /// The model has no `data` block to train on.
    NoData,
    /// A loss or gradient became NaN or infinite.
    NonFinite {
        phase: &'static str,
        step: usize,
        what: String,
    },
    /// Writing an output file failed.
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Reading a model/checkpoint failed.
    Read { path: PathBuf, reason: String },
    /// A pipeline stage (loader, trainer, controller, monitor) failed or hung up.
    Stage { stage: &'static str, reason: String },
    /// Ctrl-C, SIGTERM or `--stop-after`: the run stopped after `step` steps and
    /// wrote `checkpoint` (none without a run folder).
    Interrupted {
        step: usize,
        checkpoint: Option<PathBuf>,
    },
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Data { path, reason } => {
                write!(f, "data file {}: {reason}", path.display())
            }
            RuntimeError::Unsupported { what, hint } => {
                write!(f, "{what} is not supported by the runtime yet\n  help: {hint}")
            }
            RuntimeError::NoData => write!(
                f,
                "the model has no `data` block to train on\n  help: add e.g. `data bumps = gaussian_bumps(grid = 64)`"
            ),
            RuntimeError::NonFinite { phase, step, what } => write!(
                f,
                "{what} became NaN or infinite at {phase} step {step}\n  help: lower `lr`, or check the data for NaN; nothing was written past the last good checkpoint"
            ),
            RuntimeError::Write { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            RuntimeError::Read { path, reason } => {
                write!(f, "cannot read {}: {reason}", path.display())
            }
            RuntimeError::Stage { stage, reason } => {
                write!(f, "the {stage} stage failed: {reason}")
            }
            RuntimeError::Interrupted { step, checkpoint } => match checkpoint {
                Some(p) => write!(
                    f,
                    "interrupted after step {step}; checkpoint written to {}\n  help: continue with `rrae run FILE --resume {}`",
                    p.display(),
                    p.parent().map(|d| d.display().to_string()).unwrap_or_default()
                ),
                None => write!(f, "interrupted after step {step} (no run folder, so no checkpoint)"),
            },
        }
    }
}

impl std::error::Error for RuntimeError {}

pub type Result<T> = std::result::Result<T, RuntimeError>;
