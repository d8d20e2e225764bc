//! `conv2d` (and `conv1d`, as a 2-D convolution of height 1): PyTorch semantics, weight
//! `[C_out, C_in, kh, kw]` stored as a `C_out × (C_in·kh·kw)` matrix.
//!
//! Forward per sample: `out = W · im2col(x) + b`; backward: `dW = Σ g · colsᵀ`,
//! `dx = col2im(Wᵀ · g)`, `db = Σ g`. Samples run in parallel on the rayon pool.

mod cpu;
#[cfg(test)]
mod tests;

use crate::ops::im2col::Geometry;
use crate::ops::tape::{accumulate, grad_of, timing};
use crate::tensor::{Mat, Real, Vector};
use dfdx::prelude::*;

/// `x: (batch, C_in·H·W)` → `(batch, C_out·Ho·Wo)`; `geo.big` is the input grid.
pub fn conv2d<E: Real, T: Tape<E, Cpu>>(
    x: Mat<E, T>,
    w: &Mat<E>,
    b: Option<&Vector<E>>,
    geo: Geometry,
) -> Mat<E, T> {
    let cout = w.shape().0;
    let batch = x.shape().0;
    let (x, mut tape) = x.split_tape();
    let xs = x.as_vec();
    let ws = w.as_vec();
    let bs = b.map(|b| b.as_vec());
    let (out, cols) = cpu::forward(&geo, cout, &xs, &ws, bs.as_deref(), T::OWNS_TAPE);
    // The backward needs `x` only when the op is pointwise (its columns are `x`).
    let xs = if geo.is_pointwise() { xs } else { Vec::new() };
    let out: Mat<E> = x
        .device()
        .tensor_from_vec(out, (batch, cout * geo.col_cols()));
    if T::OWNS_TAPE {
        let (xg, wg, og) = (x.ghost(), w.ghost(), out.ghost());
        let bg = b.map(|b| b.ghost());
        tape.add_backward_op(move |grads| {
            let g = grad_of!(grads, og);
            let (dx, dw, db) = timing::timed(
                || format!("conv2d backward {:?}→{:?} ×{cout}", geo.big, geo.small),
                || cpu::backward(&geo, cout, batch, &cols, &xs, &ws, &g),
            );
            accumulate!(grads, xg, dx);
            accumulate!(grads, wg, dw);
            if let Some(bg) = bg {
                accumulate!(grads, bg, db);
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}
