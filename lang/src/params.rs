//! What a reduced-order model's training parameters may be, one definition for
//! `rrae check` (which reads the parameter files' values, small next to the data) and
//! for the runtime when the data loads: finite, distinct, and either a full grid
//! (every combination of each parameter's distinct values, once: multilinear
//! interpolation) or a scatter that spans every parameter (a radial basis function);
//! every test parameter inside the training range, since nothing is extrapolated.

use crate::ir::{DataIr, ParamsIr};
use std::io::Read;

/// The most scattered training samples: interpolating over them solves one dense
/// system of that many unknowns when the run evaluates and exports.
pub const MAX_SCATTERED: usize = 3000;

/// The largest parameter file `rrae check` reads whole.
pub const MAX_BYTES: u64 = 64 << 20;

/// How the training parameters lie.
#[derive(Clone, Debug, PartialEq)]
pub enum Layout {
    /// A full grid: each parameter's number of distinct values.
    Grid(Vec<usize>),
    /// Scattered: the number of samples.
    Scattered(usize),
}

/// Which file an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Train,
    Test,
}

/// A parameter file's values as f64, row after row (float32, float64, uint8, int32 or
/// int64 `.npy`), read only if it is a regular file of at most [`MAX_BYTES`].
pub fn read(path: &std::path::Path) -> Result<Vec<f64>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_BYTES {
        return Err(format!(
            "{} bytes: parameter files are read whole when the model is checked, up to {} MiB",
            meta.len(),
            MAX_BYTES >> 20
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    crate::files::open_regular(path)?
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    let (h, start) = crate::probe::npy_header(&bytes)?;
    let body = &bytes[start.min(bytes.len())..];
    let n = h.elements();
    if body.len() < n * h.element_size() {
        return Err(format!(
            "truncated: the header promises {n} values, the file holds {} bytes of them",
            body.len()
        ));
    }
    let take = |size: usize| body.chunks_exact(size).take(n);
    Ok(match h.dtype.as_str() {
        "f32" => take(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        "f64" => take(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        "u8" => take(1).map(|c| c[0] as f64).collect(),
        "i32" => take(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        "i64" => take(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f64)
            .collect(),
        other => return Err(format!("unsupported element type {other}")),
    })
}

/// The training and test parameter rows the runtime will have, from the files' rows:
/// without a test file the test rows are the training file's held-out tail; then
/// `limit_train` and `limit_test` cut each.
pub fn split(
    d: &DataIr,
    p: &ParamsIr,
    train: Vec<f64>,
    test: Option<Vec<f64>>,
) -> (Vec<f64>, Vec<f64>) {
    let (mut train, mut test) = match test {
        Some(t) => (train, t),
        None => {
            let n = train.len() / p.dim.max(1);
            let mut train = train;
            let test = train.split_off((n - DataIr::held_out(n, d.split)) * p.dim);
            (train, test)
        }
    };
    if let Some(l) = d.limit_train {
        train.truncate(l * p.dim);
    }
    if let Some(l) = d.limit_test {
        test.truncate(l * p.dim);
    }
    (train, test)
}

/// The layout of the training rows (`dim` values each) and the check of the test
/// rows against their range, or the first thing wrong and which file holds it.
pub fn layout(train: &[f64], dim: usize, test: &[f64]) -> Result<Layout, (Which, String)> {
    let bad = |s: String| (Which::Train, s);
    let n = train.len() / dim.max(1);
    if dim == 0 || n == 0 || n * dim != train.len() {
        return Err(bad(format!(
            "{} values do not make rows of {dim} parameters",
            train.len()
        )));
    }
    if let Some(i) = train.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "training sample {} has a NaN or infinite parameter",
            i / dim
        )));
    }
    let row = |i: usize| &train[i * dim..(i + 1) * dim];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        row(a)
            .iter()
            .zip(row(b))
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    if let Some(w) = order.windows(2).find(|w| row(w[0]) == row(w[1])) {
        return Err(bad(format!(
            "training samples {} and {} have the same parameters {:?}",
            w[0],
            w[1],
            row(w[0])
        )));
    }
    let sizes: Vec<usize> = axes(train, dim).iter().map(Vec::len).collect();
    let points = sizes.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s));
    let layout = if points == Some(n) {
        Layout::Grid(sizes)
    } else {
        scattered(train, dim).map_err(bad)?;
        Layout::Scattered(n)
    };
    let range = ranges(train, dim);
    for (i, q) in test.chunks(dim).enumerate() {
        for (d, (&v, &(lo, hi))) in q.iter().zip(&range).enumerate() {
            if !(v >= lo && v <= hi) {
                return Err((
                    Which::Test,
                    format!(
                        "test sample {i} (parameters {q:?}): parameter {d} = {v} lies outside the training range [{lo}, {hi}]; latents are interpolated, not extrapolated"
                    ),
                ));
            }
        }
    }
    Ok(layout)
}

/// Each parameter's distinct values, increasing.
pub fn axes(train: &[f64], dim: usize) -> Vec<Vec<f64>> {
    (0..dim)
        .map(|d| {
            let mut v: Vec<f64> = train.chunks(dim).map(|r| r[d]).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        })
        .collect()
}

/// Each parameter's (least, greatest) training value.
pub fn ranges(train: &[f64], dim: usize) -> Vec<(f64, f64)> {
    (0..dim)
        .map(|d| {
            let column = train.chunks(dim).map(|r| r[d]);
            column.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
        })
        .collect()
}

/// A scatter an interpolant exists on: enough samples, not too many, and spanning
/// every parameter (not all on a line in a plane, a plane in a space, …).
fn scattered(train: &[f64], dim: usize) -> Result<(), String> {
    let n = train.len() / dim;
    if n > MAX_SCATTERED {
        return Err(format!(
            "{n} training samples with scattered parameters: interpolating over them solves one dense system, so at most {MAX_SCATTERED} (a full grid has no limit)"
        ));
    }
    if n < dim + 1 {
        return Err(format!(
            "{n} training samples for {dim} parameters: scattered parameters need at least {} (one more than the parameters)",
            dim + 1
        ));
    }
    // The rank of the rows less the first, each parameter scaled to its range, by
    // Gram–Schmidt over the parameters (at most a dozen columns).
    let scale: Vec<f64> = ranges(train, dim)
        .into_iter()
        .map(|(lo, hi)| if hi > lo { hi - lo } else { 0.0 })
        .collect();
    let mut basis: Vec<Vec<f64>> = vec![];
    for d in 0..dim {
        if scale[d] == 0.0 {
            break;
        }
        let mut v: Vec<f64> = train
            .chunks(dim)
            .map(|r| (r[d] - train[d]) / scale[d])
            .collect();
        for b in &basis {
            let dot: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= dot * y);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm <= 1e-9 * (n as f64).sqrt() {
            break;
        }
        basis.push(v.into_iter().map(|x| x / norm).collect());
    }
    if basis.len() < dim {
        return Err(format!(
            "the training parameters are degenerate: they vary along {} of their {dim} directions (on a line in a plane, say), so no interpolant exists over them; vary every parameter independently",
            basis.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_scatters_and_what_is_neither() {
        let grid = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        assert_eq!(layout(&grid, 2, &[0.5, 0.5]), Ok(Layout::Grid(vec![2, 2])));
        let scatter = [0.0, 0.0, 0.3, 1.0, 1.0, 0.2, 0.7, 0.9];
        assert_eq!(layout(&scatter, 2, &[0.5, 0.5]), Ok(Layout::Scattered(4)));
        let line = [0.0, 0.0, 1.0, 2.0, 2.0, 4.0, 3.0, 6.0];
        assert!(layout(&line, 2, &[]).unwrap_err().1.contains("degenerate")); // ok: test
        let dup = layout(&[0.0, 1.0, 0.0], 1, &[]).unwrap_err(); // ok: test
        assert!(dup.1.contains("samples 0 and 2"), "{dup:?}");
        let nan = layout(&[0.0, f64::NAN], 1, &[]).unwrap_err(); // ok: test
        assert!(nan.1.contains("training sample 1"), "{nan:?}");
        let out = layout(&[0.0, 1.0, 2.0], 1, &[0.5, 2.5]).unwrap_err(); // ok: test
        assert_eq!(out.0, Which::Test);
        assert!(
            out.1.contains("test sample 1") && out.1.contains("[0, 2]"),
            "{out:?}"
        );
        let few = layout(&[0.0, 0.0, 1.0, 0.5], 2, &[]).unwrap_err(); // ok: test
        assert!(few.1.contains("at least 3"), "{few:?}");
    }
}
