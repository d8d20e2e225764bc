//! Activations: ReLU, sigmoid and tanh are dfdx's; leaky ReLU is a host op.

mod cpu;
#[cfg(test)]
mod tests;

use crate::device::{Cpu, Device};
use crate::ops::tape::{accumulate, grad_of};
use crate::tensor::{host, Mat, Real};
use dfdx::prelude::*;

/// The hand-written activation on a device (ReLU, sigmoid and tanh are dfdx's).
pub trait LeakyReluKernel<E: Real>: Device {
    /// `max(x, 0) + slope·min(x, 0)`.
    fn leaky_relu_forward(&self, x: &Self::Buf<E>, slope: E) -> Self::Buf<E>;

    /// `∂ℓ/∂x` from the input `x` and the output gradient `g`.
    fn leaky_relu_backward(&self, x: &Self::Buf<E>, g: &Self::Buf<E>, slope: E) -> Self::Buf<E>;
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Relu,
    Sigmoid,
    Tanh,
    LeakyRelu(f64),
}

pub fn activate<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(x: Mat<E, T>, a: Activation) -> Mat<E, T>
where
    dfdx::tensor::Cpu: dfdx::tensor_ops::Device<E>,
{
    match a {
        Activation::Relu => x.relu(),
        Activation::Sigmoid => x.sigmoid(),
        Activation::Tanh => x.tanh(),
        Activation::LeakyRelu(slope) => leaky_relu(x, E::of(slope)),
    }
}

/// `max(x, 0) + slope·min(x, 0)`.
pub fn leaky_relu<E: Real, T: Tape<E, dfdx::tensor::Cpu>>(x: Mat<E, T>, slope: E) -> Mat<E, T> {
    let shape = *x.shape();
    let (x, mut tape) = x.split_tape();
    let xs = host(&x);
    let out = Cpu.leaky_relu_forward(&xs, slope);
    let out: Mat<E> = x.device().tensor_from_vec(out.into_vec(), shape);
    if T::OWNS_TAPE {
        let (xg, og) = (x.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let g = crate::pool::Buf::from_vec(grad_of!(grads, og));
            let dx = Cpu.leaky_relu_backward(&xs, &g, slope);
            accumulate!(grads, xg, dx);
            Ok(())
        });
    }
    out.put_tape(tape)
}
