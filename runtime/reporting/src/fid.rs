//! The Fréchet distance between two sets of feature vectors, each summarised by a
//! Gaussian: `‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)`, with
//! `Tr (Σ₁Σ₂)^½ = Tr (Σ₁^½ Σ₂ Σ₁^½)^½` computed from symmetric eigen-decompositions.

use nalgebra::{DMatrix, DVector};

/// A set of feature vectors summarised as a Gaussian: its mean and covariance (`n − 1`
/// normalisation, as pytorch-fid's `np.cov`).
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub mean: DVector<f64>,
    pub cov: DMatrix<f64>,
}

impl Stats {
    /// The statistics of feature rows `x` (`n × d`, row-major).
    pub fn of(x: &[f32], d: usize) -> Stats {
        let n = x.len() / d.max(1);
        let m = DMatrix::from_row_iterator(n, d, x.iter().map(|&v| v as f64));
        let mean = DVector::from_iterator(d, (0..d).map(|j| m.column(j).sum() / n.max(1) as f64));
        let mut c = m.clone();
        for mut row in c.row_iter_mut() {
            row -= mean.transpose();
        }
        let cov = c.transpose() * &c / (n.max(2) - 1) as f64;
        Stats { mean, cov }
    }

    /// As `.npy`: a `(d + 1) × d` f64 array, the mean, then the covariance row by row.
    pub fn to_npy(&self) -> Vec<u8> {
        let d = self.mean.len();
        let mut v: Vec<f64> = self.mean.iter().copied().collect();
        v.extend(self.cov.transpose().iter().copied()); // column-major storage: rows
        rrae_engine::files::npy_f64_bytes(&[d + 1, d], &v)
    }

    /// What [`Stats::to_npy`] wrote for `d` features; `None` for anything else (another
    /// size, a truncated or foreign file), which the caller recomputes.
    pub fn from_npy(bytes: &[u8], d: usize) -> Option<Stats> {
        let head_len = usize::from(u16::from_le_bytes([*bytes.get(8)?, *bytes.get(9)?]));
        let header = std::str::from_utf8(bytes.get(10..10 + head_len)?).ok()?;
        let want = format!(
            "'descr': '<f8', 'fortran_order': False, 'shape': ({}, {d})",
            d + 1
        );
        if !bytes.starts_with(b"\x93NUMPY\x01\x00") || !header.contains(&want) {
            return None;
        }
        let body = bytes.get(10 + head_len..)?;
        if body.len() != (d + 1) * d * 8 {
            return None;
        }
        let v: Vec<f64> = body
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        if v.iter().any(|x| !x.is_finite()) {
            return None;
        }
        Some(Stats {
            mean: DVector::from_column_slice(&v[..d]),
            cov: DMatrix::from_row_slice(d, d, &v[d..]),
        })
    }
}

/// The square root of a symmetric positive semi-definite matrix (negative eigenvalues
/// from rounding count as zero).
fn sqrt_psd(a: &DMatrix<f64>) -> DMatrix<f64> {
    let e = a.clone().symmetric_eigen();
    let s = e.eigenvalues.map(|v| v.max(0.0).sqrt());
    &e.eigenvectors * DMatrix::from_diagonal(&s) * e.eigenvectors.transpose()
}

/// The Fréchet distance of feature rows `a` and `b` (`n × d`, row-major).
pub fn frechet(a: &[f32], b: &[f32], d: usize) -> f64 {
    frechet_of(&Stats::of(a, d), &Stats::of(b, d))
}

/// The Fréchet distance of two Gaussians.
pub fn frechet_of(a: &Stats, b: &Stats) -> f64 {
    let ra = sqrt_psd(&a.cov);
    let mid = &ra * &b.cov * &ra;
    let cross: f64 = mid
        .symmetric_eigen()
        .eigenvalues
        .iter()
        .map(|v| v.max(0.0).sqrt())
        .sum();
    ((&a.mean - &b.mean).norm_squared() + a.cov.trace() + b.cov.trace() - 2.0 * cross).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    fn gaussian(n: usize, d: usize, mean: f64, std: f64, seed: u64) -> Vec<f32> {
        let mut r = rand::rngs::StdRng::seed_from_u64(seed);
        let g = Normal::new(mean, std).unwrap(); // ok: fixed parameters
        (0..n * d).map(|_| g.sample(&mut r) as f32).collect()
    }

    /// Two pairs of Gaussian statistics worked out by hand. For 2 × 2 symmetric positive
    /// definite M, Tr √M = √(Tr M + 2 √det M); Tr (Σ₁Σ₂)^½ = Tr (Σ₁^½ Σ₂ Σ₁^½)^½.
    #[test]
    fn matches_hand_computed_statistics() {
        let m = |v: [f64; 4]| DMatrix::from_row_slice(2, 2, &v);
        let c2 = m([2.0, 1.0, 1.0, 2.0]);
        // μ₁ = 0, Σ₁ = I; μ₂ = (1, 2): ‖Δμ‖² = 5, Tr √Σ₂ = √(4 + 2√3) = √3 + 1.
        let g = |mean: DVector<f64>, cov: DMatrix<f64>| Stats { mean, cov };
        let f = frechet_of(
            &g(DVector::zeros(2), DMatrix::identity(2, 2)),
            &g(DVector::from_vec(vec![1.0, 2.0]), c2.clone()),
        );
        let want = 5.0 + 2.0 + 4.0 - 2.0 * (3f64.sqrt() + 1.0);
        assert!((f - want).abs() < 1e-12, "{f} vs {want}");
        // Σ₁ = diag(1, 4) does not commute with Σ₂: Σ₁^½ Σ₂ Σ₁^½ = [[2, 2], [2, 8]],
        // trace 10, determinant 12.
        let z = DVector::zeros(2);
        let f = frechet_of(&g(z.clone(), m([1.0, 0.0, 0.0, 4.0])), &g(z, c2));
        let want = 5.0 + 4.0 - 2.0 * (10.0 + 2.0 * 12f64.sqrt()).sqrt();
        assert!((f - want).abs() < 1e-12, "{f} vs {want}");
    }

    #[test]
    fn matches_the_closed_form_for_isotropic_gaussians() {
        // N(0, I) vs N(1, 4I) in d dims: d·1² + d·(1 + 4 − 2·2) = 2d.
        let d = 4;
        let a = gaussian(40000, d, 0.0, 1.0, 1);
        let b = gaussian(40000, d, 1.0, 2.0, 2);
        let f = frechet(&a, &b, d);
        assert!((f - 2.0 * d as f64).abs() < 0.15, "{f}");
        // The same distribution: near zero.
        let c = gaussian(40000, d, 0.0, 1.0, 3);
        assert!(frechet(&a, &c, d) < 0.01);
    }

    #[test]
    fn statistics_round_trip_through_npy_and_refuse_other_files() {
        let d = 5;
        let s = Stats::of(&gaussian(50, d, 0.3, 1.5, 4), d);
        let bytes = s.to_npy();
        assert_eq!(Stats::from_npy(&bytes, d), Some(s.clone()));
        // Another feature count, a truncated file, a NaN, a foreign array: recomputed.
        assert_eq!(Stats::from_npy(&bytes, d + 1), None);
        assert_eq!(Stats::from_npy(&bytes[..bytes.len() - 8], d), None);
        let mut nan = bytes.clone();
        let at = nan.len() - 8;
        nan[at..].copy_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(Stats::from_npy(&nan, d), None);
        let other = rrae_engine::files::npy_bytes(d + 1, d, &vec![0.0; (d + 1) * d]);
        assert!(
            Stats::from_npy(&other, d).is_some(),
            "the same layout reads"
        );
        let f32s = rrae_engine::files::npy_f32_bytes(&[d + 1, d], &vec![0.0; (d + 1) * d]);
        assert_eq!(Stats::from_npy(&f32s, d), None);
        assert_eq!(Stats::from_npy(b"not an array", d), None);
        // The distance of the read-back statistics is the distance of the originals.
        let t = Stats::of(&gaussian(50, d, 0.0, 1.0, 5), d);
        let back = Stats::from_npy(&bytes, d).unwrap(); // ok: test
        assert_eq!(frechet_of(&back, &t), frechet_of(&s, &t));
    }
}
