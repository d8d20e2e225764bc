//! Opening an artifact: the header, rkyv's validation (bytecheck), and a check that
//! the graph adds up, so that the interpreter can index without a panic.

use crate::error::Error;
use crate::format::{ArchivedArtifact, ArchivedLatent, Artifact};
use crate::layer::ArchivedLayer;
use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;
use rkyv::rend::f32_le;

pub const MAGIC: [u8; 8] = *b"RRAEARTF";
/// Bumped on any layout change; readers refuse other versions (see docs/artifact.md).
/// Version 2 added the payload checksum, version 3 the parameter grid, version 4
/// scattered parameters (the grid became one kind of parameter map).
pub const VERSION: u32 = 4;
/// Magic (8), version (4), zero (4), xxh3-64 of the payload (8), zero (8): the archive
/// starts 16-byte aligned.
pub const HEADER_LEN: usize = 32;

/// Largest tensor or activation (elements) a valid artifact may describe.
const MAX_LEN: usize = 1 << 30;

/// The checksum the header carries: xxh3-64 of everything after the header.
pub fn checksum(payload: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(payload)
}

/// The bytes of an artifact file: header, then the archive.
pub fn encode_file(a: &Artifact) -> Result<Vec<u8>, Error> {
    let payload =
        rkyv::to_bytes::<rkyv::rancor::Error>(a).map_err(|e| Error::Invalid(e.to_string()))?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&checksum(&payload).to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&payload);
    Ok(out)
}

/// The payload after a header of this version, and the checksum the header claims.
/// The header's zero bytes must be zero: every byte of a file is checked.
fn payload(bytes: &[u8]) -> Result<(&[u8], u64), Error> {
    if bytes.len() < 12 || bytes[..8] != MAGIC {
        return Err(Error::NotAnArtifact);
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let found = word(8);
    if found != VERSION {
        return Err(Error::Version {
            found,
            supported: VERSION,
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(Error::Invalid("truncated inside its header".into()));
    }
    if word(12) != 0 || bytes[24..32].iter().any(|&b| b != 0) {
        return Err(Error::Invalid(
            "its header's reserved bytes are not zero".into(),
        ));
    }
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&bytes[16..24]);
    Ok((&bytes[HEADER_LEN..], u64::from_le_bytes(sum)))
}

/// A validated artifact, read in place: nothing is copied.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub(crate) a: &'a ArchivedArtifact,
}

impl<'a> View<'a> {
    /// Checks the header and the checksum (every byte), then validates the archive and
    /// the graph. `bytes` must start at a 16-byte aligned address (a memory map or
    /// [`rkyv::util::AlignedVec`] does). The default: the checksum reads the whole file
    /// once (docs/artifact.md measures it), which is what catches a flipped
    /// weight; structure alone cannot.
    pub fn open(bytes: &'a [u8]) -> Result<View<'a>, Error> {
        let (p, stored) = payload(bytes)?;
        let computed = checksum(p);
        if computed != stored {
            return Err(Error::Checksum { stored, computed });
        }
        Self::validate(p)
    }

    /// [`View::open`] without the checksum: the header, the archive's structure and the
    /// graph, in microseconds whatever the size, reading only what they touch (a
    /// memory-mapped file's weights stay on disk). Safe on any bytes, but a damaged
    /// weight goes unnoticed: for a file this program has opened with [`View::open`]
    /// before.
    pub fn open_unverified(bytes: &'a [u8]) -> Result<View<'a>, Error> {
        Self::validate(payload(bytes)?.0)
    }

    fn validate(p: &'a [u8]) -> Result<View<'a>, Error> {
        let a = rkyv::access::<ArchivedArtifact, rkyv::rancor::Error>(p)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let v = View { a };
        v.check()?;
        Ok(v)
    }

    /// Checks only the header: no validation, for files this program wrote or
    /// validated before.
    ///
    /// # Safety
    /// `bytes` must hold an artifact that [`View::open`] accepts; anything else is
    /// undefined behaviour.
    pub unsafe fn open_unchecked(bytes: &'a [u8]) -> Result<View<'a>, Error> {
        let (p, _) = payload(bytes)?;
        // SAFETY: the caller guarantees a valid archive.
        let a = unsafe { rkyv::access_unchecked::<ArchivedArtifact>(p) };
        Ok(View { a })
    }

    /// The archived artifact (names, summaries, tensors) in place.
    pub fn artifact(&self) -> &'a ArchivedArtifact {
        self.a
    }

    /// A full owned copy.
    pub fn to_owned(&self) -> Result<Artifact, Error> {
        rkyv::deserialize::<Artifact, rkyv::rancor::Error>(self.a)
            .map_err(|e| Error::Invalid(e.to_string()))
    }

    /// Tensor `i` in place (little-endian f32, no copy).
    pub fn tensor(&self, i: u32) -> &'a [f32_le] {
        self.a.tensors[i as usize].data.as_slice()
    }

    /// One sample's length (C·H·W).
    pub fn input_len(&self) -> usize {
        self.a
            .input
            .iter()
            .map(|d| d.to_native() as usize)
            .product()
    }
    pub fn latent_dim(&self) -> usize {
        self.a.latent_dim.to_native() as usize
    }
    /// The number of bottleneck coefficients: k with a basis, L without.
    pub fn k(&self) -> usize {
        match &self.a.latent {
            ArchivedLatent::Project { basis } => {
                let s = &self.a.tensors[basis.to_native() as usize].shape;
                s[1].to_native() as usize
            }
            ArchivedLatent::Identity => self.latent_dim(),
        }
    }

    fn check(&self) -> Result<(), Error> {
        let bad = |why: alloc::string::String| Err(Error::Inconsistent(why));
        for (i, t) in self.a.tensors.iter().enumerate() {
            let n = product(t.shape.iter().map(|d| d.to_native() as usize))
                .ok_or_else(|| Error::Inconsistent(format!("tensor {i} is too large")))?;
            if n != t.data.len() {
                return bad(format!(
                    "tensor `{}` has {} values for shape {:?}",
                    t.name,
                    t.data.len(),
                    t.shape.iter().map(|d| d.to_native()).collect::<Vec<_>>()
                ));
            }
        }
        let input = product(self.a.input.iter().map(|d| d.to_native() as usize))
            .filter(|&n| n > 0)
            .ok_or_else(|| Error::Inconsistent("the input shape is empty or too large".into()))?;
        let l = self.latent_dim();
        let after = self.walk("encoder", &self.a.encoder, input)?;
        if after != l {
            return bad(format!(
                "the encoder ends with {after} values, the latent has {l}"
            ));
        }
        let k = match &self.a.latent {
            ArchivedLatent::Identity => l,
            ArchivedLatent::Project { basis } => {
                let t = self
                    .a
                    .tensors
                    .get(basis.to_native() as usize)
                    .ok_or_else(|| Error::Inconsistent("the basis tensor is missing".into()))?;
                match t.shape.as_slice() {
                    [r, c]
                        if r.to_native() as usize == l
                            && (1..=l).contains(&(c.to_native() as usize)) =>
                    {
                        c.to_native() as usize
                    }
                    _ => return bad(format!("the basis must be [{l}, k] with 1 ≤ k ≤ {l}")),
                }
            }
        };
        if self.a.coefficient_mean.len() != k || self.a.coefficient_cov.len() != k * k {
            return bad(format!(
                "the coefficient statistics are not of size {k} and {k}×{k}"
            ));
        }
        let out = self.walk("decoder", &self.a.decoder, l)?;
        if out != input {
            return bad(format!(
                "the decoder ends with {out} values, a sample has {input}"
            ));
        }
        if !self.a.examples.len().is_multiple_of(input) {
            return bad("the stored examples are not whole samples".into());
        }
        let (shift, scale) = (self.a.norm.shift.to_native(), self.a.norm.scale.to_native());
        if !shift.is_finite() || !scale.is_finite() || scale == 0.0 {
            return bad("the normalisation is not finite and non-zero".into());
        }
        Ok(())
    }

    /// The length after each layer of `layers`, from `len`; an error at the first
    /// layer whose shapes, weights or bias do not fit.
    fn walk(&self, stage: &str, layers: &[ArchivedLayer], mut len: usize) -> Result<usize, Error> {
        for (i, layer) in layers.iter().enumerate() {
            let at = |why: alloc::string::String| {
                Error::Inconsistent(format!("{stage} layer {i}: {why}"))
            };
            len = layer
                .out_len(
                    &|t| self.a.tensors.get(t as usize).map(|t| t.data.as_slice()),
                    len,
                )
                .map_err(at)?;
            if len == 0 || len > MAX_LEN {
                return Err(at(format!("{len} values")));
            }
        }
        Ok(len)
    }
}

fn product(mut it: impl Iterator<Item = usize>) -> Option<usize> {
    it.try_fold(1usize, |a, d| a.checked_mul(d))
        .filter(|&n| n <= MAX_LEN)
}

/// Validates and copies everything out: the slow path, for comparison and for
/// programs that want owned data.
pub fn from_bytes(bytes: &[u8]) -> Result<Artifact, Error> {
    View::open(bytes)?.to_owned()
}

/// An artifact file mapped into memory (or read into an aligned buffer).
#[cfg(feature = "std")]
pub struct Mapped {
    bytes: Backing,
}

#[cfg(feature = "std")]
enum Backing {
    Map(memmap2::Mmap),
    Buf(rkyv::util::AlignedVec<16>),
}

/// Opens an artifact: a regular file only, opened without blocking (a FIFO named
/// `model.rra` would block the open until a writer came; a device such as `/dev/zero`
/// would be mapped or read without end).
#[cfg(feature = "std")]
fn open_file(path: &std::path::Path) -> Result<std::fs::File, Error> {
    let io = |e: std::io::Error| Error::Io(format!("cannot open {}: {e}", path.display()));
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    let f = o.open(path).map_err(io)?;
    let meta = f
        .metadata()
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    if meta.is_file() {
        Ok(f)
    } else {
        Err(Error::Io(format!(
            "{} is not a regular file: an artifact is a file written by `rrae run`",
            path.display()
        )))
    }
}

#[cfg(feature = "std")]
impl Mapped {
    /// Maps the file read-only. As with any memory map, another process truncating
    /// the file meanwhile makes reads fault; use [`Mapped::read`] where that can happen.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Mapped, Error> {
        let path = path.as_ref();
        let io = |e: std::io::Error| Error::Io(format!("cannot open {}: {e}", path.display()));
        let f = open_file(path)?;
        // SAFETY: mapped read-only and only read through `&[u8]`; see the doc above.
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(io)?;
        Ok(Mapped {
            bytes: Backing::Map(map),
        })
    }

    /// Reads the file into a 16-byte aligned buffer.
    pub fn read(path: impl AsRef<std::path::Path>) -> Result<Mapped, Error> {
        let path = path.as_ref();
        let io = |e: std::io::Error| Error::Io(format!("cannot read {}: {e}", path.display()));
        let mut f = open_file(path)?;
        let mut data = vec![];
        std::io::Read::read_to_end(&mut f, &mut data).map_err(io)?;
        Ok(Mapped::from_bytes(&data))
    }

    /// Copies bytes into an aligned buffer.
    pub fn from_bytes(data: &[u8]) -> Mapped {
        let mut buf = rkyv::util::AlignedVec::<16>::with_capacity(data.len());
        buf.extend_from_slice(data);
        Mapped {
            bytes: Backing::Buf(buf),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Backing::Map(m) => m,
            Backing::Buf(b) => b,
        }
    }

    /// Validated view (see [`View::open`]).
    pub fn view(&self) -> Result<View<'_>, Error> {
        View::open(self.bytes())
    }
}
