//! The host optimiser update: the loops the optimiser ran before it was a kernel, in
//! the same order of operations (loss traces did not move).

use super::Update;
use crate::device::Cpu;
use crate::pool::Buf;

/// Applies `u` to `p` with gradient `g` and moments `m`, `v`, element by element.
pub fn update_slices(u: Update, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    match u {
        Update::Adam {
            b1,
            b2,
            step,
            c2s,
            eps,
        } => {
            for j in 0..g.len() {
                m[j] = b1 * m[j] + (1.0 - b1) * g[j];
                v[j] = b2 * v[j] + (1.0 - b2) * g[j] * g[j];
                p[j] -= step * m[j] / (v[j].sqrt() / c2s + eps);
            }
        }
        Update::AdaBelief {
            b1,
            b2,
            step,
            c2s,
            eps,
            eps_root,
        } => {
            for j in 0..g.len() {
                m[j] = b1 * m[j] + (1.0 - b1) * g[j];
                let e = g[j] - m[j];
                v[j] = b2 * v[j] + (1.0 - b2) * e * e + eps_root;
                p[j] -= step * m[j] / (v[j].sqrt() / c2s + eps);
            }
        }
        Update::Sgd { mu, lr, first } => {
            for j in 0..g.len() {
                m[j] = if first { g[j] } else { mu * m[j] + g[j] };
                p[j] -= lr * m[j];
            }
        }
    }
}

impl super::OptimizerKernel for Cpu {
    fn optimizer_update(
        &self,
        u: Update,
        p: &mut Buf<f32>,
        g: &Buf<f32>,
        m: &mut Buf<f32>,
        v: &mut Buf<f32>,
    ) {
        update_slices(u, p, g, m, v);
    }

    fn all_finite(&self, x: &Buf<f32>) -> bool {
        x.iter().all(|v| v.is_finite())
    }
}
