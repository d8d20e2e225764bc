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
        /// The run folder where the model from before fine-tuning was kept, evaluated
        /// and written (a NaN in fine-tuning loses nothing of training).
        kept: Option<PathBuf>,
    },
    /// Writing an output file failed: the I/O error, or the encoder's (PNG, JSON,
    /// safetensors) that failed before a byte was written.
    Write { path: PathBuf, source: Cause },
    /// Reading a model/checkpoint failed.
    Read { path: PathBuf, reason: String },
    /// A pipeline stage (loader, trainer, controller, monitor) failed or hung up.
    Stage { stage: &'static str, reason: String },
    /// Another process holds a run folder's `lock` file (its PID, when known).
    InUse { lock: PathBuf, pid: Option<u32> },
    /// The run would need more memory than the device has available.
    TooBig {
        /// What needs it: `training`, `evaluation`, `the samples`.
        what: String,
        need: String,
        available: String,
        /// The setting that lowers it.
        lower: String,
    },
    /// An output folder names an existing file.
    NotAFolder { path: PathBuf },
    /// The device asked for (`--device cuda:1`) cannot be used, or failed during the run.
    Device { asked: String, reason: String },
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
            RuntimeError::NonFinite {
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
            RuntimeError::Write { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            RuntimeError::Read { path, reason } => {
                write!(f, "cannot read {}: {reason}", path.display())
            }
            RuntimeError::Stage { stage, reason } => {
                write!(f, "the {stage} stage failed: {reason}")
            }
            RuntimeError::InUse { lock, pid } => {
                let who = pid.map_or("another rrae process".to_string(), |p| format!("rrae process {p}"));
                let dir = lock.parent().unwrap_or(lock);
                write!(
                    f,
                    "the run folder {} is in use by {who}\n  help: wait for it to end, or give another `--out`; if no such process runs, delete {}",
                    dir.display(),
                    lock.display()
                )
            }
            RuntimeError::TooBig {
                what,
                need,
                available,
                lower,
            } => write!(
                f,
                "{what} would need about {need} of memory; {available} is available\n  help: {lower}"
            ),
            RuntimeError::NotAFolder { path } => write!(
                f,
                "{} is a file, not a folder\n  help: give `--out` a folder (it is created if missing)",
                path.display()
            ),
            RuntimeError::Device { asked, reason } => write!(
                f,
                "cannot run on {asked}: {reason}\n  help: run on the CPU with `--device cpu`"
            ),
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

impl std::error::Error for RuntimeError {
    /// The I/O error behind a failed write, for callers that walk the chain.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RuntimeError::Write { source, .. } => Some(source.as_ref()),
            RuntimeError::Data { .. }
            | RuntimeError::Unsupported { .. }
            | RuntimeError::NoData
            | RuntimeError::NonFinite { .. }
            | RuntimeError::Read { .. }
            | RuntimeError::Stage { .. }
            | RuntimeError::InUse { .. }
            | RuntimeError::TooBig { .. }
            | RuntimeError::NotAFolder { .. }
            | RuntimeError::Device { .. }
            | RuntimeError::Interrupted { .. } => None,
        }
    }
}

/// The error behind a failed write, kept whole for [`std::error::Error::source`].
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

impl RuntimeError {
    /// Writing `path` failed because of `source` (an I/O or encoder error, or a message).
    pub fn write(path: impl Into<PathBuf>, source: impl Into<Cause>) -> RuntimeError {
        RuntimeError::Write {
            path: path.into(),
            source: source.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, RuntimeError>;

#[cfg(test)]
mod tests {
    use super::RuntimeError;
    use std::error::Error;

    #[test]
    fn a_write_error_names_its_io_cause() {
        let e = RuntimeError::write(
            "run/model.rra",
            std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"),
        );
        let cause = e.source();
        assert_eq!(cause.map(|s| s.to_string()).as_deref(), Some("disk full"));
        let io = cause.and_then(|c| c.downcast_ref::<std::io::Error>());
        assert_eq!(io.map(|e| e.kind()), Some(std::io::ErrorKind::StorageFull));
        assert!(RuntimeError::NoData.source().is_none());
    }
}
