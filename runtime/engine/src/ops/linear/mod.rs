//! `linear`: `y = x·W + b` with `W` stored `in × out` (the transpose of PyTorch's
//! layout, so the forward is one row-major GEMM with no transposed operand).
//! dfdx's matmul and broadcast carry the backward.

#[cfg(test)]
mod tests;

use crate::tensor::{Mat, Real, Vector};
use dfdx::prelude::*;

pub fn linear<E: Real, T: Tape<E, Cpu> + Merge<NoneTape>>(
    x: Mat<E, T>,
    w: &Mat<E>,
    b: Option<&Vector<E>>,
) -> Mat<E, T>
where
    Cpu: Device<E>,
{
    let y = x.matmul(w.clone());
    match b {
        Some(b) => {
            let shape = *y.shape();
            y + b.clone().broadcast_like::<_, Axis<0>>(&shape)
        }
        None => y,
    }
}
