//! Random sampling without std: a seeded SplitMix64 generator, normals by Box–Muller,
//! and the Cholesky factor of the coefficient covariance.

use alloc::vec;
use alloc::vec::Vec;

/// SplitMix64: small, fast, and the same stream on every platform.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    spare: Option<f64>,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            spare: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let (u, v) = (self.uniform(), self.uniform());
        let r = libm::sqrt(-2.0 * libm::log(u));
        let t = 2.0 * core::f64::consts::PI * v;
        self.spare = Some(r * libm::sin(t));
        r * libm::cos(t)
    }
}

/// Lower-triangular L with L Lᵀ = cov (k × k, row-major). Pivots that are not positive
/// (a singular or slightly indefinite covariance) become zero: those directions get
/// no spread instead of NaN.
pub fn cholesky(cov: &[f64], k: usize) -> Vec<f64> {
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = (0..j).map(|p| l[i * k + p] * l[j * k + p]).sum();
            if i == j {
                let d = cov[i * k + i] - s;
                l[i * k + i] = if d > 0.0 { libm::sqrt(d) } else { 0.0 };
            } else {
                let d = l[j * k + j];
                l[i * k + j] = if d > 0.0 {
                    (cov[i * k + j] - s) / d
                } else {
                    0.0
                };
            }
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_covariance() {
        let cov = [4.0, 2.0, 0.6, 2.0, 2.0, 0.5, 0.6, 0.5, 3.0];
        let l = cholesky(&cov, 3);
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|p| l[i * 3 + p] * l[j * 3 + p]).sum();
                assert!((v - cov[i * 3 + j]).abs() < 1e-12);
            }
        }
        // Singular: no NaN.
        assert!(cholesky(&[1.0, 1.0, 1.0, 1.0], 2)
            .iter()
            .all(|v| v.is_finite()));
    }

    #[test]
    fn normals_have_unit_variance() {
        let mut r = Rng::new(3);
        let xs: Vec<f64> = (0..20000).map(|_| r.normal()).collect();
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64;
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "{m} {v}");
    }
}
