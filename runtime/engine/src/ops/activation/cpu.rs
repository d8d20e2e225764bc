//! Host kernels of the activations: the formulas dfdx 0.13 used, in the same order of
//! operations (so the loss traces did not move when the tape became the engine's own),
//! on the rayon pool for activation-sized buffers.

use super::Activation;
use crate::device::Cpu;
use crate::pool::{self, Buf};
use crate::tensor::Real;
use rayon::prelude::*;

const CHUNK: usize = 1 << 15;

/// `out[i] = f(i)` over the rayon pool.
fn map<E: Real>(n: usize, f: impl Fn(usize) -> E + Sync) -> Buf<E> {
    let mut out = pool::take(n);
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
        let base = c * CHUNK;
        o.iter_mut().enumerate().for_each(|(i, o)| *o = f(base + i));
    });
    out
}

impl<E: Real> super::ActivationKernel<E> for Cpu {
    fn activation_forward(&self, a: Activation, x: &Buf<E>) -> Buf<E> {
        let (zero, one) = (E::zero(), E::one());
        match a {
            Activation::Relu => map(x.len(), |i| x[i].max(zero)),
            Activation::Sigmoid => map(x.len(), |i| one / (one + x[i].neg().exp())),
            Activation::Tanh => map(x.len(), |i| x[i].tanh()),
            Activation::LeakyRelu(slope) => {
                let slope = E::of(slope);
                map(x.len(), |i| if x[i] > zero { x[i] } else { x[i] * slope })
            }
        }
    }

    fn activation_backward(&self, a: Activation, x: &Buf<E>, y: &Buf<E>, g: &Buf<E>) -> Buf<E> {
        let (zero, one) = (E::zero(), E::one());
        match a {
            Activation::Relu => map(g.len(), |i| {
                let df = if x[i] > zero { one } else { zero };
                df * g[i]
            }),
            Activation::Sigmoid => map(g.len(), |i| (y[i] * (one - y[i])) * g[i]),
            Activation::Tanh => map(g.len(), |i| (one - y[i].powi(2)) * g[i]),
            Activation::LeakyRelu(slope) => {
                let slope = E::of(slope);
                map(g.len(), |i| if x[i] > zero { g[i] } else { g[i] * slope })
            }
        }
    }
}
