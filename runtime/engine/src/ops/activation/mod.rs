//! Activations: ReLU, sigmoid and tanh are dfdx's; leaky ReLU is a host op.

#[cfg(test)]
mod tests;

use crate::ops::tape::{accumulate, grad_of};
use crate::tensor::{Mat, Real};
use dfdx::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Relu,
    Sigmoid,
    Tanh,
    LeakyRelu(f64),
}

pub fn activate<E: Real, T: Tape<E, Cpu>>(x: Mat<E, T>, a: Activation) -> Mat<E, T>
where
    Cpu: Device<E>,
{
    match a {
        Activation::Relu => x.relu(),
        Activation::Sigmoid => x.sigmoid(),
        Activation::Tanh => x.tanh(),
        Activation::LeakyRelu(slope) => leaky_relu(x, E::of(slope)),
    }
}

/// `max(x, 0) + slope·min(x, 0)`.
pub fn leaky_relu<E: Real, T: Tape<E, Cpu>>(x: Mat<E, T>, slope: E) -> Mat<E, T> {
    let shape = *x.shape();
    let (x, mut tape) = x.split_tape();
    let xs = x.as_vec();
    let f = |v: E| if v > E::zero() { v } else { v * slope };
    let out: Mat<E> = x
        .device()
        .tensor_from_vec(xs.iter().map(|&v| f(v)).collect(), shape);
    if T::OWNS_TAPE {
        let (xg, og) = (x.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let g = grad_of!(grads, og);
            let dx: Vec<E> = xs
                .iter()
                .zip(&g)
                .map(|(&v, &g)| if v > E::zero() { g } else { g * slope })
                .collect();
            accumulate!(grads, xg, dx);
            Ok(())
        });
    }
    out.put_tape(tape)
}
