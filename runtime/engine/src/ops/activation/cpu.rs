//! Host kernel of the leaky ReLU.

use crate::device::Cpu;
use crate::pool::Buf;
use crate::tensor::Real;

impl<E: Real> super::LeakyReluKernel<E> for Cpu {
    fn leaky_relu_forward(&self, x: &Buf<E>, slope: E) -> Buf<E> {
        let f = |v: E| if v > E::zero() { v } else { v * slope };
        Buf::from_vec(x.iter().map(|&v| f(v)).collect())
    }

    fn leaky_relu_backward(&self, x: &Buf<E>, g: &Buf<E>, slope: E) -> Buf<E> {
        let dx = x
            .iter()
            .zip(g.iter())
            .map(|(&v, &g)| if v > E::zero() { g } else { g * slope })
            .collect();
        Buf::from_vec(dx)
    }
}
