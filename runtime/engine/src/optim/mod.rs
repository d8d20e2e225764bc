//! Adam, AdaBelief and SGD with momentum, with PyTorch's update rules: for Adam
//! `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `θ ← θ − lr·m̂ / (√v̂ + ε)` with
//! bias-corrected `m̂`, `v̂`.
//!
//! The state ([`Optimizer`]: the rule, the step count and the moments) is what
//! checkpoints keep, on the host. The update itself is a kernel ([`OptimizerKernel`]):
//! the host computes one step's scalar coefficients ([`Update`]) and the device applies
//! them to a parameter, its gradient and its moments where they live, so a run on a GPU
//! keeps all four there ([`crate::resident`]).

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use crate::device::Device;
use crate::params::ParamSet;
use rrae_lang::ir::Optimizer as OptIr;

pub use cpu::update_slices;

/// The optimiser and its state (moments and step count), which checkpoints keep.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer {
    kind: OptIr,
    pub t: u64,
    pub m: Vec<Vec<f32>>,
    pub v: Vec<Vec<f32>>,
}

/// One step's update of one parameter, its coefficients computed on the host in f64
/// and rounded once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Update {
    /// `step = lr / (1 − β₁ᵗ)`, `c2s = √(1 − β₂ᵗ)`.
    Adam {
        b1: f32,
        b2: f32,
        step: f32,
        c2s: f32,
        eps: f32,
    },
    /// optax.scale_by_belief: the second moment tracks `(g − m)²`, with `m` already
    /// updated, plus `eps_root`.
    AdaBelief {
        b1: f32,
        b2: f32,
        step: f32,
        c2s: f32,
        eps: f32,
        eps_root: f32,
    },
    /// `m ← g` on the first step, `m ← μm + g` after; `θ ← θ − lr·m`.
    Sgd { mu: f32, lr: f32, first: bool },
}

/// The optimiser update on a device.
pub trait OptimizerKernel: Device {
    /// Applies `u` to the parameter `p` with gradient `g` and moments `m`, `v`.
    fn optimizer_update(
        &self,
        u: Update,
        p: &mut Self::Buf<f32>,
        g: &Self::Buf<f32>,
        m: &mut Self::Buf<f32>,
        v: &mut Self::Buf<f32>,
    );

    /// Whether every element of `x` is finite.
    fn all_finite(&self, x: &Self::Buf<f32>) -> bool;

    /// The first of `xs` with an element that is not finite. A GPU overrides this to
    /// count all of them in one pass and cross to the host once, not once per tensor.
    fn first_non_finite(&self, xs: &[&Self::Buf<f32>]) -> Option<usize> {
        xs.iter().position(|x| !self.all_finite(x))
    }
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

    /// Counts a step and returns its update at learning rate `lr`.
    pub fn next_update(&mut self, lr: f64) -> Update {
        self.t += 1;
        let t = self.t as i32;
        match self.kind {
            OptIr::Adam { beta1, beta2, eps } => Update::Adam {
                b1: beta1 as f32,
                b2: beta2 as f32,
                step: (lr / (1.0 - beta1.powi(t))) as f32,
                c2s: (1.0 - beta2.powi(t)).sqrt() as f32,
                eps: eps as f32,
            },
            OptIr::AdaBelief {
                beta1,
                beta2,
                eps,
                eps_root,
            } => Update::AdaBelief {
                b1: beta1 as f32,
                b2: beta2 as f32,
                step: (lr / (1.0 - beta1.powi(t))) as f32,
                c2s: (1.0 - beta2.powi(t)).sqrt() as f32,
                eps: eps as f32,
                eps_root: eps_root as f32,
            },
            OptIr::Sgd { momentum } => Update::Sgd {
                mu: momentum as f32,
                lr: lr as f32,
                first: self.t == 1,
            },
        }
    }

    /// Applies one update on the host; `grads[i]` is the gradient of
    /// `params.params[i]` (empty for parameters that received none). Frozen parameters
    /// are skipped.
    pub fn step(&mut self, params: &mut ParamSet, grads: &[Vec<f32>], lr: f64) {
        let u = self.next_update(lr);
        for (i, p) in params.params.iter_mut().enumerate() {
            let g = &grads[i];
            if p.frozen || g.is_empty() {
                continue;
            }
            update_slices(u, &mut p.data, g, &mut self.m[i], &mut self.v[i]);
        }
    }
}
