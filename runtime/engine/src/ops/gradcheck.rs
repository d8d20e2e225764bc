//! Central finite differences against the tape, in f64: the oracle every op's
//! backward is tested against.
//!
//! The checked scalar is `Σ out ⊙ R` for a fixed random `R`, so every output entry's
//! gradient path is exercised with a different weight.

use crate::tensor::{Mat, Vector};
use dfdx::prelude::*;
use rand::{Rng, SeedableRng};

pub type Taped = Mat<f64, OwnedTape<f64, Cpu>>;

/// The untaped operands of an op (weights, biases, constants).
pub struct Params {
    pub mats: Vec<Mat<f64>>,
    pub vecs: Vec<Vector<f64>>,
}

/// Host data of a check: the taped input `x` (`rows × cols`) and flat parameters.
#[derive(Clone)]
pub struct Case {
    pub x: Vec<f64>,
    pub rows: usize,
    pub cols: usize,
    pub mats: Vec<(Vec<f64>, usize, usize)>,
    pub vecs: Vec<Vec<f64>>,
}

impl Case {
    fn build(&self, dev: &Cpu) -> (Mat<f64>, Params) {
        let x = dev.tensor_from_vec(self.x.clone(), (self.rows, self.cols));
        let mats = self
            .mats
            .iter()
            .map(|(d, r, c)| dev.tensor_from_vec(d.clone(), (*r, *c)))
            .collect();
        let vecs = self
            .vecs
            .iter()
            .map(|d| dev.tensor_from_vec(d.clone(), (d.len(),)))
            .collect();
        (x, Params { mats, vecs })
    }
}

/// Deterministic values in [-1, 1].
pub fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// Largest |analytic − numeric| / max(1, |numeric|) over every input entry, with
/// central differences of step 1e-6.
pub fn max_error(case: &Case, f: impl Fn(Taped, &Params) -> Taped) -> f64 {
    max_error_h(case, 1e-6, f)
}

/// [`max_error`] with step `h`.
pub fn max_error_h(case: &Case, h: f64, f: impl Fn(Taped, &Params) -> Taped) -> f64 {
    let dev = Cpu::default();
    let (x, p) = case.build(&dev);
    let out = f(x.clone().leaky_traced(), &p);
    let (rows, cols) = *out.shape();
    let r = dev.tensor_from_vec(noise(rows * cols, 99), (rows, cols));
    let loss = (out * r.clone()).sum();
    let grads = loss.backward();
    let analytic_x = grads.get(&x).as_vec();
    let analytic_m: Vec<Vec<f64>> = p.mats.iter().map(|m| grads.get(m).as_vec()).collect();
    let analytic_v: Vec<Vec<f64>> = p.vecs.iter().map(|v| grads.get(v).as_vec()).collect();

    let eval = |c: &Case| -> f64 {
        let (x, p) = c.build(&dev);
        let out = f(x.leaky_traced(), &p);
        let v = out.as_vec();
        v.iter().zip(r.as_vec()).map(|(a, b)| a * b).sum()
    };
    let mut worst: f64 = 0.0;
    let mut check = |analytic: f64, perturb: &dyn Fn(&mut Case, f64)| {
        let mut plus = case.clone();
        perturb(&mut plus, h);
        let mut minus = case.clone();
        perturb(&mut minus, -h);
        let numeric = (eval(&plus) - eval(&minus)) / (2.0 * h);
        let err = (analytic - numeric).abs() / numeric.abs().max(1.0);
        assert!(analytic.is_finite(), "non-finite gradient");
        worst = worst.max(err);
    };
    for (i, a) in analytic_x.iter().enumerate() {
        check(*a, &|c: &mut Case, d| c.x[i] += d);
    }
    for (m, grads) in analytic_m.iter().enumerate() {
        for (i, a) in grads.iter().enumerate() {
            check(*a, &|c: &mut Case, d| c.mats[m].0[i] += d);
        }
    }
    for (v, grads) in analytic_v.iter().enumerate() {
        for (i, a) in grads.iter().enumerate() {
            check(*a, &|c: &mut Case, d| c.vecs[v][i] += d);
        }
    }
    if std::env::var_os("RRAE_GRADCHECK_PRINT").is_some() {
        eprintln!(
            "gradcheck: {} inputs, h = {h:e}: max error {worst:.2e}",
            case.x.len()
        );
    }
    worst
}

/// Element-wise equality to 1e-10 (the naive-reference comparisons).
pub fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-10, "{x} vs {y}");
    }
}
