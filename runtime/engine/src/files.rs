//! Whole-file readers for IDX (optionally gzip'd) and `.npy`, on top of the header
//! parsers the checker uses. A file shorter than its header promises is an error
//! naming both sizes, never a short dataset.

use crate::error::{EngineError, Result};
use flate2::read::GzDecoder;
use rrae_lang::probe::{idx_header, npy_header, Header};
use std::io::Read;
use std::path::Path;

fn bad(path: &Path, reason: impl Into<String>) -> EngineError {
    EngineError::Data {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Bytes a header may take: `.npy` version 1 headers are at most 64 KiB, IDX headers
/// 20 bytes.
const HEAD: usize = (1 << 16) + 12;

/// The header and the data bytes of a (possibly gzip'd) file, read no further than the
/// header declares: a gzip bomb whose header claims ten samples inflates ten samples'
/// worth, not gigabytes, and a header claiming more than the file has allocates only
/// what the file holds. `parse` reads `(header, data offset)` from the first bytes.
fn read_declared(
    path: &Path,
    parse: impl Fn(&[u8]) -> std::result::Result<(Header, usize), String>,
) -> Result<(Header, Vec<u8>)> {
    let f = rrae_lang::files::open_regular(path).map_err(|e| bad(path, e))?;
    let mut r: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    let io = |e: std::io::Error| bad(path, format!("cannot read (corrupt or truncated?): {e}"));
    let mut bytes = vec![];
    (&mut r)
        .take(HEAD as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let (h, start) = parse(&bytes).map_err(|e| bad(path, e))?;
    // `Header` checked that the data's size fits in memory; the offset is small.
    let total = start.saturating_add(h.elements() * h.element_size());
    if bytes.len() < total {
        r.take((total - bytes.len()) as u64)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    bytes.truncate(total);
    let data = bytes.split_off(start.min(bytes.len()));
    Ok((h, data))
}

/// Converts `count` elements of `dtype` (little-endian unless `big`) to f32.
fn decode(path: &Path, bytes: &[u8], dtype: &str, count: usize, big: bool) -> Result<Vec<f32>> {
    let width = match dtype {
        "u8" | "i8" => 1,
        "i16" => 2,
        "i32" | "f32" => 4,
        "f64" | "i64" => 8,
        other => return Err(bad(path, format!("unsupported element type {other}"))),
    };
    let need = count
        .checked_mul(width)
        .ok_or_else(|| bad(path, "size overflows"))?;
    if bytes.len() < need {
        return Err(bad(
            path,
            format!(
                "truncated: the header promises {need} bytes of data, the file has {}",
                bytes.len()
            ),
        ));
    }
    let word = |c: &[u8]| -> [u8; 8] {
        let mut w = [0u8; 8];
        if big {
            for (i, b) in c.iter().rev().enumerate() {
                w[i] = *b;
            }
        } else {
            w[..c.len()].copy_from_slice(c);
        }
        w
    };
    let out = bytes[..need]
        .chunks_exact(width)
        .map(|c| {
            let w = word(c);
            match dtype {
                "u8" => c[0] as f32,
                "i8" => c[0] as i8 as f32,
                "i16" => i16::from_le_bytes([w[0], w[1]]) as f32,
                "i32" => i32::from_le_bytes([w[0], w[1], w[2], w[3]]) as f32,
                "f32" => f32::from_le_bytes([w[0], w[1], w[2], w[3]]),
                "i64" => i64::from_le_bytes(w) as f32,
                _ => f64::from_le_bytes(w) as f32,
            }
        })
        .collect();
    Ok(out)
}

/// Reads every sample of an IDX / IDX.gz file as f32 (raw values, e.g. 0–255).
pub fn read_idx(path: &Path) -> Result<(Header, Vec<f32>)> {
    let (h, bytes) = read_declared(path, |b| {
        idx_header(b).map(|h| {
            let start = 4 + 4 * (h.sample.len() + 1);
            (h, start)
        })
    })?;
    let data = decode(path, &bytes, &h.dtype, h.elements(), true)?;
    Ok((h, data))
}

/// The header of an IDX / IDX.gz file, reading nothing past it.
pub fn read_idx_header(path: &Path) -> Result<Header> {
    rrae_lang::probe::idx_file(path).map_err(|e| bad(path, e))
}

/// Reads a C-ordered little-endian `.npy` array as f32.
pub fn read_npy(path: &Path) -> Result<(Header, Vec<f32>)> {
    let (h, bytes) = read_declared(path, npy_header)?;
    let data = decode(path, &bytes, &h.dtype, h.elements(), false)?;
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(bad(path, format!("element {i} is NaN or infinite")));
    }
    Ok((h, data))
}

/// Writes a 2-D f64 array as `.npy` (for bases and exported latents).
pub fn npy_bytes(rows: usize, cols: usize, data: &[f64]) -> Vec<u8> {
    npy_f64_bytes(&[rows, cols], data)
}

/// Writes an f64 array of any shape as `.npy` (samples in their own shape).
pub fn npy_f64_bytes(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let mut out = npy_start("<f8", shape);
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes f64 values as an f32 `.npy` array of any shape (generated images: half the
/// bytes of f64, and every consumer reads f32).
pub fn npy_f32_bytes(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let mut out = npy_start("<f4", shape);
    for v in data {
        out.extend_from_slice(&(*v as f32).to_le_bytes());
    }
    out
}

/// Writes a uint8 array of any shape as `.npy` (decoded images).
pub fn npy_u8_bytes(shape: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = npy_start("|u1", shape);
    out.extend_from_slice(data);
    out
}

/// The magic, version 1.0 and the header dict, padded to a multiple of 64 bytes.
fn npy_start(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let comma = if shape.len() == 1 { "," } else { "" };
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}{comma}), }}",
        dims.join(", ")
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips_and_truncation_is_an_error() {
        let dir = std::env::temp_dir().join(format!("rrae-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap(); // ok: test scaffolding
        let p = dir.join("a.npy");
        let bytes = npy_bytes(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        std::fs::write(&p, &bytes).unwrap(); // ok: test scaffolding
        let (h, d) = read_npy(&p).unwrap(); // ok: asserted file
        assert_eq!((h.count, h.sample.clone()), (2, vec![3]));
        assert_eq!(d, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        std::fs::write(&p, &bytes[..bytes.len() - 5]).unwrap(); // ok: test scaffolding
        let e = read_npy(&p).unwrap_err().to_string(); // ok: asserted error
        assert!(e.contains("truncated: the header promises 48 bytes"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An IDX.gz whose header declares 10 samples of 2 × 2 bytes, followed by `extra`
    /// bytes of zeros, compressed.
    fn idx_gz(extra: usize) -> Vec<u8> {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let mut raw = vec![0, 0, 0x08, 3, 0, 0, 0, 10, 0, 0, 0, 2, 0, 0, 0, 2];
        raw.extend((0..40u8).map(|v| v * 3));
        raw.resize(raw.len() + extra, 0);
        let mut z = GzEncoder::new(vec![], Compression::fast());
        z.write_all(&raw).unwrap(); // ok: test scaffolding
        z.finish().unwrap() // ok: test scaffolding
    }

    #[test]
    fn a_gzip_bomb_inflates_no_further_than_its_header_declares() {
        let dir = std::env::temp_dir().join(format!("rrae-bomb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap(); // ok: test scaffolding
                                                // 64 MiB of zeros after the declared data, then the stream is cut: reading it
                                                // to the end would fail on the cut (and hold 64 MiB); reading what the header
                                                // declares stops long before either.
        let gz = idx_gz(64 << 20);
        let p = dir.join("bomb-idx3-ubyte.gz");
        std::fs::write(&p, &gz[..gz.len() * 3 / 4]).unwrap(); // ok: test scaffolding
        let (h, d) = read_idx(&p).unwrap(); // ok: asserted below
        assert_eq!((h.count, h.sample.clone()), (10, vec![2, 2]));
        assert_eq!(d, (0..40).map(|v| (v * 3) as f32).collect::<Vec<_>>());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_header_claiming_2_to_the_62_rows_is_an_error_not_a_wrapped_size() {
        let dir = std::env::temp_dir().join(format!("rrae-huge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap(); // ok: test scaffolding
        let mut bytes = npy_bytes(1, 784, &[0.5; 784]);
        let text = String::from_utf8_lossy(&bytes[10..]).into_owned();
        let forged = text.replace("(1, 784)", &format!("({}, 784)", 1u64 << 62));
        bytes.truncate(10);
        bytes[8..10].copy_from_slice(&(forged.len() as u16).to_le_bytes());
        bytes.extend_from_slice(forged.as_bytes());
        let p = dir.join("huge.npy");
        std::fs::write(&p, &bytes).unwrap(); // ok: test scaffolding
        let e = read_npy(&p).unwrap_err().to_string(); // ok: asserted error
        assert!(e.contains("more data than any file can hold"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reads_mnist_and_rejects_a_truncated_gzip() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/mnist/t10k-images-idx3-ubyte.gz");
        let (h, d) = read_idx(&p).unwrap(); // ok: shared data is part of the test setup
        assert_eq!((h.count, h.sample.clone()), (10000, vec![28, 28]));
        assert_eq!(d.len(), 10000 * 784);
        assert!(d.iter().all(|&v| (0.0..=255.0).contains(&v)));
        let bytes = std::fs::read(&p).unwrap(); // ok: test scaffolding
        let dir = std::env::temp_dir().join(format!("rrae-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap(); // ok: test scaffolding
        let cut = dir.join("cut-idx3-ubyte.gz");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap(); // ok: test scaffolding
        let e = read_idx(&cut).unwrap_err().to_string(); // ok: asserted error
        assert!(
            e.contains("corrupt or truncated") || e.contains("truncated"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
