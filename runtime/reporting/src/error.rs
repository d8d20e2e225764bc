//! What a run, an evaluation or a comparison can fail at beyond training's errors: no
//! data to train on, a run folder in use or not a folder, a model too large for the
//! memory there is. Training's errors (and through them the engine's) pass through
//! unchanged ([`RunError::Train`]).

use rrae_engine::EngineError;
use rrae_train::error::TrainError;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum RunError {
    /// Training, or the engine below it, failed.
    Train(TrainError),
    /// The model has no `data` block to train on.
    NoData,
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
}

impl RunError {
    /// Writing `path` failed because of `source`: see [`TrainError::write`].
    pub fn write(
        path: impl Into<PathBuf>,
        source: impl Into<rrae_train::error::Cause>,
    ) -> RunError {
        TrainError::write(path, source).into()
    }

    /// Reading `path` failed: [`TrainError::Read`].
    pub fn read(path: impl Into<PathBuf>, reason: impl Into<String>) -> RunError {
        TrainError::Read {
            path: path.into(),
            reason: reason.into(),
        }
        .into()
    }
}

impl From<TrainError> for RunError {
    fn from(e: TrainError) -> RunError {
        RunError::Train(e)
    }
}

impl From<EngineError> for RunError {
    fn from(e: EngineError) -> RunError {
        RunError::Train(TrainError::Engine(e))
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Train(e) => e.fmt(f),
            RunError::NoData => write!(
                f,
                "the model has no `data` block to train on\n  help: add e.g. `data bumps = gaussian_bumps(grid = 64)`"
            ),
            RunError::InUse { lock, pid } => {
                let who = pid.map_or("another rrae process".to_string(), |p| format!("rrae process {p}"));
                let dir = lock.parent().unwrap_or(lock);
                write!(
                    f,
                    "the run folder {} is in use by {who}\n  help: wait for it to end, or give another `--out`; if no such process runs, delete {}",
                    dir.display(),
                    lock.display()
                )
            }
            RunError::TooBig {
                what,
                need,
                available,
                lower,
            } => write!(
                f,
                "{what} would need about {need} of memory; {available} is available\n  help: {lower}"
            ),
            RunError::NotAFolder { path } => write!(
                f,
                "{} is a file, not a folder\n  help: give `--out` a folder (it is created if missing)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for RunError {
    /// Training's error, for callers that walk the chain to the I/O error of a write.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Train(e) => Some(e),
            RunError::NoData
            | RunError::InUse { .. }
            | RunError::TooBig { .. }
            | RunError::NotAFolder { .. } => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, RunError>;
