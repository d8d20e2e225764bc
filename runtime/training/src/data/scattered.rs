//! Training parameters that are not a grid (random draws, a Latin hypercube,
//! measured operating points): the radial basis function interpolant of
//! [`rrae_artifact::rbf`], its weights solved here. The evaluation interpolates the
//! training latents with it; the artifact keeps the same interpolant of the
//! coefficients, so `decode_at` on a device answers as the evaluation measured.

use nalgebra::DMatrix;

/// The training parameters scaled to their box, ready to fit values to.
#[derive(Clone, Debug, PartialEq)]
pub struct Scattered {
    pub dim: usize,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    /// Scaled parameters, `dim` per training sample.
    pub centres: Vec<f64>,
}

/// A fitted interpolant of `m` values: weights (`m` per sample) and the linear tail
/// (`m` constants, then `m` per parameter).
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub m: usize,
    pub weights: Vec<f64>,
    pub linear: Vec<f64>,
}

impl Scattered {
    /// The training rows (`dim` values each; a scatter [`rrae_lang::params::layout`]
    /// accepted), or why an interpolant cannot be built on them after all (a layout
    /// that is degenerate within rounding).
    pub fn new(train: &[f64], dim: usize) -> Result<Scattered, String> {
        let n = train.len() / dim.max(1);
        let (lo, hi): (Vec<f64>, Vec<f64>) =
            rrae_lang::params::ranges(train, dim).into_iter().unzip();
        let mut centres = Vec::with_capacity(train.len());
        for r in train.chunks(dim) {
            // Inside its own box by construction.
            centres.extend(rrae_artifact::rbf::scale(&lo, &hi, r)?);
        }
        let s = Scattered {
            dim,
            lo,
            hi,
            centres,
        };
        // A layout the linear tail cannot be fitted on (all samples on a line in a
        // plane, say) fails now, not at the evaluation.
        s.fit(&vec![0.0; n], 1)?;
        Ok(s)
    }

    pub fn len(&self) -> usize {
        self.centres.len() / self.dim.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.centres.is_empty()
    }

    /// The interpolant of `values` (`m` per training sample): the system
    /// `[Φ P; Pᵀ 0] [w; v] = [values; 0]`, Φᵢⱼ = ‖xᵢ − xⱼ‖³, P = [1 x].
    pub fn fit(&self, values: &[f64], m: usize) -> Result<Fit, String> {
        let (n, dim) = (self.len(), self.dim);
        let size = n + dim + 1;
        let x = |i: usize| &self.centres[i * dim..(i + 1) * dim];
        let mut a = DMatrix::<f64>::zeros(size, size);
        for i in 0..n {
            for j in 0..i {
                let r2: f64 = x(i).iter().zip(x(j)).map(|(p, q)| (p - q) * (p - q)).sum();
                let phi = rrae_artifact::rbf::kernel(r2);
                a[(i, j)] = phi;
                a[(j, i)] = phi;
            }
            a[(i, n)] = 1.0;
            a[(n, i)] = 1.0;
            for d in 0..dim {
                a[(i, n + 1 + d)] = x(i)[d];
                a[(n + 1 + d, i)] = x(i)[d];
            }
        }
        let mut rhs = DMatrix::<f64>::zeros(size, m);
        for i in 0..n {
            for j in 0..m {
                rhs[(i, j)] = values[i * m + j];
            }
        }
        let lu = a.lu();
        let sol = lu.solve(&rhs).ok_or_else(|| {
            "the training parameters are degenerate (they lie on a lower-dimensional plane, e.g. a line in a plane): no interpolant exists; vary every parameter independently".to_string()
        })?;
        if sol.iter().any(|v| !v.is_finite()) {
            return Err(
                "the training parameters are too close to degenerate to interpolate over".into(),
            );
        }
        let weights = (0..n)
            .flat_map(|i| (0..m).map(move |j| (i, j)))
            .map(|(i, j)| sol[(i, j)])
            .collect();
        let linear = (0..=dim)
            .flat_map(|d| (0..m).map(move |j| (d, j)))
            .map(|(d, j)| sol[(n + d, j)])
            .collect();
        Ok(Fit { m, weights, linear })
    }

    /// The fitted values at parameter `p`, or why `p` is outside the training box.
    pub fn at(&self, fit: &Fit, p: &[f64]) -> Result<Vec<f64>, String> {
        let s = rrae_artifact::rbf::scale(&self.lo, &self.hi, p)?;
        Ok(rrae_artifact::rbf::evaluate(
            &s,
            &self.centres,
            &fit.weights,
            &fit.linear,
            fit.m,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Halton points in [0, 2] × [−1, 1]: scattered, not a grid.
    fn halton(n: usize) -> Vec<f64> {
        let h = |mut i: usize, b: usize| {
            let (mut f, mut r) = (1.0, 0.0);
            while i > 0 {
                f /= b as f64;
                r += f * (i % b) as f64;
                i /= b;
            }
            r
        };
        (1..=n)
            .flat_map(|i| [2.0 * h(i, 2), 2.0 * h(i, 3) - 1.0])
            .collect()
    }

    #[test]
    fn the_interpolant_is_exact_at_the_samples_and_for_linear_fields() {
        let train = halton(30);
        let s = Scattered::new(&train, 2).unwrap(); // ok: test
        let f = |p: &[f64]| [3.0 * p[0] - 2.0 * p[1] + 0.5, (p[0] * 2.0).sin() * p[1]];
        let values: Vec<f64> = train.chunks(2).flat_map(f).collect();
        let fit = s.fit(&values, 2).unwrap(); // ok: test
        for (p, v) in train.chunks(2).zip(values.chunks(2)) {
            let got = s.at(&fit, p).unwrap(); // ok: test
            assert!(
                (got[0] - v[0]).abs() < 1e-9 && (got[1] - v[1]).abs() < 1e-9,
                "{p:?}"
            );
        }
        // Between the samples: the linear field exactly, the smooth one closely.
        for q in [[0.3, 0.2], [1.7, -0.6], [1.0, 0.0]] {
            let got = s.at(&fit, &q).unwrap(); // ok: test
            let want = f(&q);
            assert!((got[0] - want[0]).abs() < 1e-9, "{q:?}: {got:?}");
            assert!(
                (got[1] - want[1]).abs() < 0.05,
                "{q:?}: {got:?} vs {want:?}"
            );
        }
        assert!(s
            .at(&fit, &[2.5, 0.0])
            .unwrap_err()
            .contains("outside the training range"));
    }

    #[test]
    fn a_degenerate_layout_has_no_interpolant() {
        let line = [0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
        assert!(Scattered::new(&line, 2).unwrap_err().contains("degenerate"));
    }
}
