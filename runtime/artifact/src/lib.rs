//! rrae model artifacts: one self-describing file, read in place.
//!
//! An artifact holds a trained model in its inference form (encoder, the latent map
//! `project(U_f)` or the identity, decoder), its weights, U_f and k, the data
//! normalisation, the training coefficients' mean and covariance (for sampling), a
//! dataset and training summary and the hash of the `.rrae` source. The file is a
//! 16-byte header (magic `RRAEARTF`, format version) followed by an rkyv archive.
//!
//! ```no_run
//! # #[cfg(feature = "std")]
//! # fn main() -> Result<(), rrae_artifact::Error> {
//! let file = rrae_artifact::Mapped::open("runs/rrae/model.rra")?;
//! let model = file.view()?;                       // validated, zero-copy
//! let alpha = model.encode(&vec![0.0; model.input_len()])?; // k coefficients
//! let image = model.decode(&alpha)?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "std"))]
//! # fn main() {}
//! ```
//!
//! Without the default `std` feature the crate is `#![no_std]` + `alloc`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod error;
mod format;
pub mod geometry;
pub mod grid;
mod interp;
mod layer;
mod open;
pub mod rbf;
mod sample;

pub use error::Error;
pub use format::*;
pub use geometry::Geometry;
pub use layer::{ArchivedConv, ArchivedLayer, Conv, Layer};
#[cfg(feature = "std")]
pub use open::Mapped;
pub use open::{checksum, encode_file, from_bytes, View, HEADER_LEN, MAGIC, VERSION};
pub use sample::Rng;

/// 64-bit FNV-1a of the model source: stable across platforms and versions.
pub fn source_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}
