//! Adam (and SGD with momentum) over the host parameter list, with PyTorch's update
//! rule: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
//! `θ ← θ − lr·m̂ / (√v̂ + ε)` with bias-corrected `m̂`, `v̂`.

use crate::params::ParamSet;
use rrae_lang::ir::Optimizer as OptIr;

/// The optimiser and its state (moments and step count), which checkpoints keep.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer {
    kind: OptIr,
    pub t: u64,
    pub m: Vec<Vec<f32>>,
    pub v: Vec<Vec<f32>>,
}

impl Optimizer {
    pub fn new(kind: OptIr, params: &ParamSet) -> Self {
        let zeros = || {
            params
                .params
                .iter()
                .map(|p| vec![0.0; p.data.len()])
                .collect()
        };
        Optimizer {
            kind,
            t: 0,
            m: zeros(),
            v: zeros(),
        }
    }

    /// A stand-in for reading checkpoints, which store the state but not the kind.
    pub fn placeholder() -> Self {
        Optimizer {
            kind: OptIr::Sgd { momentum: 0.0 },
            t: 0,
            m: vec![],
            v: vec![],
        }
    }

    /// This optimiser's kind with the moments and step count of `state`.
    pub fn with_state(&self, state: Optimizer) -> Optimizer {
        Optimizer {
            kind: self.kind.clone(),
            ..state
        }
    }

    /// Applies one update; `grads[i]` is the gradient of `params.params[i]`
    /// (empty for parameters that received none). Frozen parameters are skipped.
    pub fn step(&mut self, params: &mut ParamSet, grads: &[Vec<f32>], lr: f64) {
        self.t += 1;
        for (i, p) in params.params.iter_mut().enumerate() {
            let g = &grads[i];
            if p.frozen || g.is_empty() {
                continue;
            }
            let (m, v) = (&mut self.m[i], &mut self.v[i]);
            match self.kind {
                OptIr::Adam { beta1, beta2, eps } => {
                    let c1 = 1.0 - beta1.powi(self.t as i32);
                    let c2 = 1.0 - beta2.powi(self.t as i32);
                    let (b1, b2) = (beta1 as f32, beta2 as f32);
                    let step = (lr / c1) as f32;
                    let (c2s, eps) = (c2.sqrt() as f32, eps as f32);
                    for j in 0..g.len() {
                        m[j] = b1 * m[j] + (1.0 - b1) * g[j];
                        v[j] = b2 * v[j] + (1.0 - b2) * g[j] * g[j];
                        p.data[j] -= step * m[j] / (v[j].sqrt() / c2s + eps);
                    }
                }
                OptIr::AdaBelief {
                    beta1,
                    beta2,
                    eps,
                    eps_root,
                } => {
                    // optax.scale_by_belief: the second moment tracks (g − m)², with
                    // m already updated, plus eps_root.
                    let c1 = 1.0 - beta1.powi(self.t as i32);
                    let c2 = 1.0 - beta2.powi(self.t as i32);
                    let (b1, b2) = (beta1 as f32, beta2 as f32);
                    let step = (lr / c1) as f32;
                    let (c2s, eps, eps_root) = (c2.sqrt() as f32, eps as f32, eps_root as f32);
                    for j in 0..g.len() {
                        m[j] = b1 * m[j] + (1.0 - b1) * g[j];
                        let e = g[j] - m[j];
                        v[j] = b2 * v[j] + (1.0 - b2) * e * e + eps_root;
                        p.data[j] -= step * m[j] / (v[j].sqrt() / c2s + eps);
                    }
                }
                OptIr::Sgd { momentum } => {
                    let mu = momentum as f32;
                    for j in 0..g.len() {
                        m[j] = if self.t == 1 { g[j] } else { mu * m[j] + g[j] };
                        p.data[j] -= lr as f32 * m[j];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One Adam step moves every coordinate by exactly lr against its gradient's
    /// sign (m̂/√v̂ = ±1 at t = 1), as in PyTorch.
    #[test]
    fn first_adam_step_moves_by_lr() {
        let mut ps = ParamSet::default();
        ps.push("w".into(), vec![3], vec![1.0, 2.0, 3.0]);
        let mut opt = Optimizer::new(
            OptIr::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            &ps,
        );
        opt.step(&mut ps, &[vec![0.5, -2.0, 0.0]], 0.1);
        let want = [0.9, 2.1, 3.0];
        for (a, b) in ps.params[0].data.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    /// AdaBelief's first step: m̂ = g, ŝ = (0.9 g)² (+ eps_root), so the update is
    /// lr / 0.9 against the sign of g (optax.adabelief gives the same).
    #[test]
    fn first_adabelief_step() {
        let mut ps = ParamSet::default();
        ps.push("w".into(), vec![2], vec![1.0, 1.0]);
        let kind = OptIr::AdaBelief {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-16,
            eps_root: 1e-16,
        };
        let mut opt = Optimizer::new(kind, &ps);
        opt.step(&mut ps, &[vec![2.0, -0.5]], 0.09);
        let want = [1.0 - 0.1, 1.0 + 0.1];
        for (a, b) in ps.params[0].data.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        for _ in 0..3000 {
            let g: Vec<f32> = ps.params[0].data.iter().map(|w| 2.0 * w).collect();
            opt.step(&mut ps, &[g], 0.01);
        }
        assert!(
            ps.params[0].data.iter().all(|w| w.abs() < 1e-2),
            "{:?}",
            ps.params[0].data
        );
    }

    /// Adam minimises a quadratic.
    #[test]
    fn adam_converges_on_a_quadratic() {
        let mut ps = ParamSet::default();
        ps.push("w".into(), vec![2], vec![5.0, -3.0]);
        let kind = OptIr::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let mut opt = Optimizer::new(kind, &ps);
        for _ in 0..2000 {
            let g: Vec<f32> = ps.params[0].data.iter().map(|w| 2.0 * w).collect();
            opt.step(&mut ps, &[g], 0.05);
        }
        assert!(ps.params[0].data.iter().all(|w| w.abs() < 1e-2));
    }
}
