//! What the engine itself can fail at: a data file, an operator it does not train, two
//! operands whose shapes do not fit, a device. Each variant names what failed and how
//! to fix it. The crates above wrap this type in their own, with the failures only they
//! know (a diverged run, a checkpoint, a run folder in use): candle's split of an op's
//! shape error from its callers'.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum EngineError {
    /// A data or basis file could not be read or is malformed (truncated, wrong size).
    Data { path: PathBuf, reason: String },
    /// The model uses something this runtime does not train yet.
    Unsupported { what: String, hint: String },
    /// An op was given operands whose shapes do not fit (`matmul` of 3 × 4 by 5 × 2).
    /// The checker fixes every shape before the runtime runs, so this is rrae's bug.
    ShapeMismatch {
        op: &'static str,
        lhs: (usize, usize),
        rhs: (usize, usize),
    },
    /// The device asked for (`--device cuda:1`) cannot be used, or failed during the run.
    Device { asked: String, reason: String },
    /// An exchange between the ranks of a distributed run failed; `rank` is the one
    /// that failed or is to blame.
    Collective { rank: usize, reason: String },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Data { path, reason } => {
                write!(f, "data file {}: {reason}", path.display())
            }
            EngineError::Unsupported { what, hint } => {
                write!(f, "{what} is not supported by the runtime yet\n  help: {hint}")
            }
            EngineError::ShapeMismatch { op, lhs, rhs } => write!(
                f,
                "`{op}` of a {} × {} and a {} × {} operand: the shapes do not fit\n  note: the checker fixes every shape before a run, so this is a bug in rrae; please report it with the model file",
                lhs.0, lhs.1, rhs.0, rhs.1
            ),
            EngineError::Device { asked, reason } => write!(
                f,
                "cannot run on {asked}: {reason}\n  help: run on the CPU with `--device cpu`"
            ),
            EngineError::Collective { rank, reason } => {
                write!(f, "the ranks' exchange failed at rank {rank}: {reason}")
            }
        }
    }
}

impl std::error::Error for EngineError {}

pub type Result<T> = std::result::Result<T, EngineError>;

#[cfg(test)]
mod tests {
    use super::EngineError;

    #[test]
    fn a_shape_mismatch_names_the_op_and_both_shapes() {
        let e = EngineError::ShapeMismatch {
            op: "matmul",
            lhs: (3, 4),
            rhs: (5, 2),
        };
        let text = e.to_string();
        assert!(
            text.starts_with("`matmul` of a 3 × 4 and a 5 × 2 operand"),
            "{text}"
        );
        assert!(text.contains("a bug in rrae"), "{text}");
    }
}
