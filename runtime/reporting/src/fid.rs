//! The Fréchet distance between two sets of feature vectors, each summarised by a
//! Gaussian: `‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)`, with
//! `Tr (Σ₁Σ₂)^½ = Tr (Σ₁^½ Σ₂ Σ₁^½)^½` computed from symmetric eigen-decompositions.

use nalgebra::{DMatrix, DVector};

fn stats(x: &[f32], d: usize) -> (DVector<f64>, DMatrix<f64>) {
    let n = x.len() / d.max(1);
    let m = DMatrix::from_row_iterator(n, d, x.iter().map(|&v| v as f64));
    let mean = DVector::from_iterator(d, (0..d).map(|j| m.column(j).sum() / n.max(1) as f64));
    let mut c = m.clone();
    for mut row in c.row_iter_mut() {
        row -= mean.transpose();
    }
    let cov = c.transpose() * &c / (n.max(2) - 1) as f64;
    (mean, cov)
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
    let (ma, ca) = stats(a, d);
    let (mb, cb) = stats(b, d);
    frechet_of(&ma, &ca, &mb, &cb)
}

/// The Fréchet distance of two Gaussians given by their means and covariances.
pub fn frechet_of(
    ma: &DVector<f64>,
    ca: &DMatrix<f64>,
    mb: &DVector<f64>,
    cb: &DMatrix<f64>,
) -> f64 {
    let ra = sqrt_psd(ca);
    let mid = &ra * cb * &ra;
    let cross: f64 = mid
        .symmetric_eigen()
        .eigenvalues
        .iter()
        .map(|v| v.max(0.0).sqrt())
        .sum();
    ((ma - mb).norm_squared() + ca.trace() + cb.trace() - 2.0 * cross).max(0.0)
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
        let f = frechet_of(
            &DVector::zeros(2),
            &DMatrix::identity(2, 2),
            &DVector::from_vec(vec![1.0, 2.0]),
            &c2,
        );
        let want = 5.0 + 2.0 + 4.0 - 2.0 * (3f64.sqrt() + 1.0);
        assert!((f - want).abs() < 1e-12, "{f} vs {want}");
        // Σ₁ = diag(1, 4) does not commute with Σ₂: Σ₁^½ Σ₂ Σ₁^½ = [[2, 2], [2, 8]],
        // trace 10, determinant 12.
        let z = DVector::zeros(2);
        let f = frechet_of(&z, &m([1.0, 0.0, 0.0, 4.0]), &z, &c2);
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
}
