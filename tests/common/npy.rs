//! The `.npy` files the CLI's `encode`, `decode` and `sample` read and write, as the
//! golden tests build and read them.

use std::path::Path;

/// An f32 `.npy` of rows (what `rrae decode` reads).
pub fn npy_f32(rows: &[Vec<f32>]) -> Vec<u8> {
    let width = rows.first().map_or(0, Vec::len);
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {width}), }}",
        rows.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(rows.iter().flatten().flat_map(|v| v.to_le_bytes()));
    out
}

/// The values of an f64 `.npy` (what `rrae sample` and `rrae decode` write).
pub fn npy_f64_values(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())); // ok: test
    assert!(
        bytes.starts_with(b"\x93NUMPY"),
        "{} is not a .npy",
        path.display()
    );
    let header = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let text = String::from_utf8_lossy(&bytes[10..10 + header]);
    assert!(text.contains("'<f8'"), "{text}");
    bytes[10 + header..]
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .collect()
}
