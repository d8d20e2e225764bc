//! What training can fail at beyond the engine's own errors: a loss that diverged, a
//! pipeline stage that failed, an interrupted run, a checkpoint or output file. The
//! engine's errors pass through unchanged ([`TrainError::Engine`]).

use rrae_engine::EngineError;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum TrainError {
    /// The engine failed: a data file, an operator, a device.
    Engine(EngineError),
    /// A loss or gradient became NaN or infinite.
    NonFinite {
        phase: &'static str,
        step: usize,
        what: String,
        /// The run folder where the model from before fine-tuning was kept, evaluated
        /// and written (a NaN in fine-tuning loses nothing of training).
        kept: Option<PathBuf>,
    },
    /// Writing an output file failed: the I/O error, or the encoder's (PNG, JSON,
    /// safetensors) that failed before a byte was written.
    Write { path: PathBuf, source: Cause },
    /// Reading a model, checkpoint or run file failed.
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

/// The error behind a failed write, kept whole for [`std::error::Error::source`].
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

impl TrainError {
    /// Writing `path` failed because of `source` (an I/O or encoder error, or a message).
    pub fn write(path: impl Into<PathBuf>, source: impl Into<Cause>) -> TrainError {
        TrainError::Write {
            path: path.into(),
            source: source.into(),
        }
    }
}

impl TrainError {
    /// The data file `path` is unreadable or malformed: the engine's
    /// [`EngineError::Data`], which its own file readers return too.
    pub fn data(path: impl Into<PathBuf>, reason: impl Into<String>) -> TrainError {
        TrainError::Engine(EngineError::Data {
            path: path.into(),
            reason: reason.into(),
        })
    }
}

impl From<EngineError> for TrainError {
    fn from(e: EngineError) -> TrainError {
        TrainError::Engine(e)
    }
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Engine(e) => e.fmt(f),
            TrainError::NonFinite {
                phase,
                step,
                what,
                kept,
            } => {
                // The rate of the phase that diverged; a tiny `eps` divides by ~0 too.
                let rate = if *phase == "fine_tune" { "fine_tune_lr" } else { "lr" };
                write!(
                    f,
                    "{what} became NaN or infinite at {phase} step {step}\n  help: lower `{rate}` (or raise the optimiser's `eps`), or check the data for NaN"
                )?;
                match kept {
                    Some(dir) => write!(
                        f,
                        "\n  note: the model as training left it (before fine-tuning) was evaluated and written to {} (model.rra, model.safetensors, metrics.json)",
                        dir.display()
                    ),
                    None => write!(f, "; nothing was written past the last good checkpoint"),
                }
            }
            TrainError::Write { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            TrainError::Read { path, reason } => {
                write!(f, "cannot read {}: {reason}", path.display())
            }
            TrainError::Stage { stage, reason } => {
                write!(f, "the {stage} stage failed: {reason}")
            }
            TrainError::Interrupted { step, checkpoint } => match checkpoint {
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

impl std::error::Error for TrainError {
    /// The engine's error, or the I/O error behind a failed write, for callers that
    /// walk the chain.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrainError::Engine(e) => Some(e),
            TrainError::Write { source, .. } => Some(source.as_ref()),
            TrainError::NonFinite { .. }
            | TrainError::Read { .. }
            | TrainError::Stage { .. }
            | TrainError::Interrupted { .. } => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, TrainError>;

#[cfg(test)]
mod tests {
    use super::TrainError;
    use std::error::Error;

    #[test]
    fn a_write_error_names_its_io_cause() {
        let e = TrainError::write(
            "run/model.rra",
            std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"),
        );
        let cause = e.source();
        assert_eq!(cause.map(|s| s.to_string()).as_deref(), Some("disk full"));
        let io = cause.and_then(|c| c.downcast_ref::<std::io::Error>());
        assert_eq!(io.map(|e| e.kind()), Some(std::io::ErrorKind::StorageFull));
    }

    #[test]
    fn an_engine_error_reads_as_itself() {
        let inner = rrae_engine::EngineError::Device {
            asked: "cuda:1".into(),
            reason: "no such device".into(),
        };
        let text = inner.to_string();
        let e = TrainError::from(inner);
        assert_eq!(e.to_string(), text);
        assert!(e.source().is_some());
    }
}
