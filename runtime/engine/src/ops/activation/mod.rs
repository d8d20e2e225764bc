//! Activations: ReLU, sigmoid, tanh and leaky ReLU, one kernel trait for the four.
//! Backward: ReLU and leaky ReLU from the input, sigmoid and tanh from the output
//! (`σ' = σ(1 − σ)`, `tanh' = 1 − tanh²`), as dfdx computed them.

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use crate::device::Device;
use crate::tape::TapeKernel;
use crate::tape::{Tape, Var};
use crate::tensor::Real;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Relu,
    Sigmoid,
    Tanh,
    LeakyRelu(f64),
}

/// The activations on a device.
pub trait ActivationKernel<E: Real>: Device {
    /// `a(x)`, element by element.
    fn activation_forward(&self, a: Activation, x: &Self::Buf<E>) -> Self::Buf<E>;

    /// `∂ℓ/∂x` from the input `x`, the output `y` and the output gradient `g`.
    fn activation_backward(
        &self,
        a: Activation,
        x: &Self::Buf<E>,
        y: &Self::Buf<E>,
        g: &Self::Buf<E>,
    ) -> Self::Buf<E>;
}

pub fn activate<D: ActivationKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    x: Var,
    a: Activation,
) -> Var {
    let y = tape.dev().activation_forward(a, tape.value(x));
    let y = tape.output(y, x.rows, x.cols, &[x]);
    tape.on_backward(y, move |pass| {
        if let Some(g) = pass.take_grad(y) {
            let dx = pass
                .dev()
                .activation_backward(a, pass.value(x), pass.value(y), &g);
            pass.add_grad(x, dx);
        }
        Ok(())
    });
    y
}
