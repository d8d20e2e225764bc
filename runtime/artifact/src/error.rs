//! Why an artifact could not be opened or run. Never a panic: every malformed,
//! truncated, foreign or bit-flipped file ends here.

use alloc::string::String;
use core::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// Shorter than the header, or not starting with the magic bytes.
    NotAnArtifact,
    /// Written by a format version this crate does not read.
    Version { found: u32, supported: u32 },
    /// The archive failed validation (truncated, bit-flipped, misaligned).
    Invalid(String),
    /// The payload does not hash to the header's checksum: some byte changed.
    Checksum { stored: u64, computed: u64 },
    /// The archive is well-formed but its graph does not add up (`what` says where).
    Inconsistent(String),
    /// An input of the wrong length for the op.
    Input {
        op: &'static str,
        expected: usize,
        got: usize,
    },
    #[cfg(feature = "std")]
    Io(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotAnArtifact => write!(f, "not an rrae artifact (no RRAEARTF header)"),
            Error::Version { found, supported } => write!(
                f,
                "artifact format version {found}; this reader supports {supported}: re-export the run with a matching rrae"
            ),
            Error::Invalid(why) => write!(f, "the artifact is damaged: {why}"),
            Error::Checksum { stored, computed } => write!(
                f,
                "the artifact is damaged: its contents hash to {computed:016x}, its header says {stored:016x} (a byte changed on disk or in transit); `rrae eval RUN_DIR` writes it anew from model.safetensors"
            ),
            Error::Inconsistent(why) => write!(f, "the artifact's model is inconsistent: {why}"),
            Error::Input { op, expected, got } => {
                write!(f, "{op} takes {expected} values, got {got}")
            }
            #[cfg(feature = "std")]
            Error::Io(why) => write!(f, "{why}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
