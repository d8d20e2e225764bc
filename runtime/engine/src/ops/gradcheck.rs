//! Central finite differences against the tape, in f64: the oracle every op's
//! backward is tested against.
//!
//! The checked scalar is `Σ out ⊙ R` for a fixed random `R`, so every output entry's
//! gradient path is exercised with a different weight.

use crate::device::Cpu;
use crate::pool::Buf;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rand::{Rng, SeedableRng};

/// The tape gradient checks run on.
pub type CheckTape = Tape<'static, Cpu, f64>;

/// A case's matrices and vectors (biases, `1 × n`) as values on the tape.
pub struct Params {
    pub mats: Vec<Var>,
    pub vecs: Vec<Var>,
}

#[derive(Clone)]
pub struct Case {
    pub x: Vec<f64>,
    pub rows: usize,
    pub cols: usize,
    pub mats: Vec<(Vec<f64>, usize, usize)>,
    pub vecs: Vec<Vec<f64>>,
}

impl Case {
    fn build(&self, tape: &mut CheckTape) -> (Var, Params) {
        let leaf =
            |tape: &mut CheckTape, d: &[f64], r, c| tape.leaf(Buf::from_vec(d.to_vec()), r, c);
        let x = leaf(tape, &self.x, self.rows, self.cols);
        let mats = self
            .mats
            .iter()
            .map(|(d, r, c)| leaf(tape, d, *r, *c))
            .collect();
        let vecs = self
            .vecs
            .iter()
            .map(|d| leaf(tape, d, 1, d.len()))
            .collect();
        (x, Params { mats, vecs })
    }
}

/// `data` (`rows × cols`) on `tape`, no gradient wanted.
pub fn constant(tape: &mut CheckTape, data: &[f64], rows: usize, cols: usize) -> Var {
    tape.constant(Buf::from_vec(data.to_vec()), rows, cols)
}

/// The values `f` computes on an inference tape.
pub fn values(f: impl FnOnce(&mut CheckTape) -> Var) -> Vec<f64> {
    let mut tape = Tape::inference(Cpu);
    let out = f(&mut tape);
    tape.download(out)
}

/// The value of the scalar `f` computes on an inference tape.
pub fn scalar(f: impl FnOnce(&mut CheckTape) -> Var) -> f64 {
    values(f)[0]
}

pub fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// `Σ out ⊙ r` as a scalar on the tape, with its backward `r·g`.
pub fn weighted_sum<E: Real>(tape: &mut Tape<Cpu, E>, out: Var, r: Vec<E>) -> Var {
    let v: E = tape.value(out).iter().zip(&r).map(|(a, b)| *a * *b).sum();
    let s = tape.scalar(v, &[out]);
    tape.on_backward(s, move |pass| {
        if let Some(g) = pass.take_grad(s) {
            let d = Buf::from_vec(r.iter().map(|x| *x * g[0]).collect());
            pass.add_grad(out, d);
        }
        Ok(())
    });
    s
}

/// `f(x, p)` on a recording tape, and the gradients of `Σ f(x, p) ⊙ r` with respect to
/// x, then the matrices, then the vectors (zeros where none arrived); `r` defaults to
/// fixed noise.
pub fn forward_backward(
    case: &Case,
    r: Option<Vec<f64>>,
    f: impl Fn(&mut CheckTape, Var, &Params) -> Var,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut tape = Tape::new(Cpu);
    let (x, p) = case.build(&mut tape);
    let out = f(&mut tape, x, &p);
    let values = tape.download(out);
    let r = r.unwrap_or_else(|| noise(out.len(), 99));
    let loss = weighted_sum(&mut tape, out, r);
    let mut grads = tape.backward(loss).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let vars = std::iter::once(x).chain(p.mats).chain(p.vecs);
    let grads = vars
        .map(|v| match grads.take(v) {
            Some(g) => g.to_vec(),
            None => vec![0.0; v.len()],
        })
        .collect();
    (values, grads)
}

pub fn max_error(case: &Case, f: impl Fn(&mut CheckTape, Var, &Params) -> Var) -> f64 {
    max_error_h(case, 1e-6, f)
}

pub fn max_error_h(case: &Case, h: f64, f: impl Fn(&mut CheckTape, Var, &Params) -> Var) -> f64 {
    let analytic = forward_backward(case, None, &f).1;
    let eval = |c: &Case| -> f64 {
        let mut tape = Tape::inference(Cpu);
        let (x, p) = c.build(&mut tape);
        let out = f(&mut tape, x, &p);
        let r = noise(out.len(), 99);
        tape.download(out).iter().zip(r).map(|(a, b)| a * b).sum()
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
    let mut groups = analytic.iter();
    if let Some(gx) = groups.next() {
        for (i, a) in gx.iter().enumerate() {
            check(*a, &|c: &mut Case, d| c.x[i] += d);
        }
    }
    for m in 0..case.mats.len() {
        if let Some(g) = groups.next() {
            for (i, a) in g.iter().enumerate() {
                check(*a, &|c: &mut Case, d| c.mats[m].0[i] += d);
            }
        }
    }
    for v in 0..case.vecs.len() {
        if let Some(g) = groups.next() {
            for (i, a) in g.iter().enumerate() {
                check(*a, &|c: &mut Case, d| c.vecs[v][i] += d);
            }
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

/// `a`'s values then `b`'s as one row, so that one check covers two outputs (a sample
/// and its penalty) with their gradients summed.
pub fn concat_scalar(tape: &mut CheckTape, a: Var, b: Var) -> Var {
    let mut v = tape.download(a);
    v.extend(tape.download(b));
    let n = a.len();
    let out = tape.output(Buf::from_vec(v.clone()), 1, v.len(), &[a, b]);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            pass.add_grad(a, Buf::from_vec(g[..n].to_vec()));
            pass.add_grad(b, Buf::from_vec(g[n..].to_vec()));
        }
        Ok(())
    });
    out
}

pub fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-10, "{x} vs {y}");
    }
}
