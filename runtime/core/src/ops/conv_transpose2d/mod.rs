//! `conv_transpose2d` (and 1-D): PyTorch semantics, weight `[C_in, C_out, kh, kw]` stored
//! as a `C_in × (C_out·kh·kw)` matrix; output size `(H−1)·s − 2p + d·(k−1) + op + 1`.
//!
//! Forward per sample: `out = col2im(Wᵀ · x) + b` — no inserted zeros, and the output
//! padding only enlarges the grid being scattered into. Backward: `g_cols = im2col(g)`,
//! `dx = W · g_cols`, `dW = Σ x · g_colsᵀ`, `db = Σ g`.

mod cpu;
#[cfg(test)]
mod tests;

use crate::ops::im2col::Geometry;
use crate::ops::tape::{accumulate, grad_of, timing};
use crate::tensor::{Mat, Real, Vector};
use dfdx::prelude::*;

/// `x: (batch, C_in·H·W)` → `(batch, C_out·Ho·Wo)`; `geo.big` is the *output* grid,
/// `geo.channels` the output channels, `geo.small` the input grid.
pub fn conv_transpose2d<E: Real, T: Tape<E, Cpu>>(
    x: Mat<E, T>,
    w: &Mat<E>,
    b: Option<&Vector<E>>,
    geo: Geometry,
) -> Mat<E, T> {
    let cin = w.shape().0;
    let batch = x.shape().0;
    let (x, mut tape) = x.split_tape();
    let xs = x.as_vec();
    let ws = w.as_vec();
    let bs = b.map(|b| b.as_vec());
    let out = cpu::forward(&geo, cin, &xs, &ws, bs.as_deref());
    let out: Mat<E> = x.device().tensor_from_vec(out, (batch, geo.big_len()));
    if T::OWNS_TAPE {
        let (xg, wg, og) = (x.ghost(), w.ghost(), out.ghost());
        let bg = b.map(|b| b.ghost());
        tape.add_backward_op(move |grads| {
            let g = grad_of!(grads, og);
            let (dx, dw, db) = timing::timed(
                || {
                    format!(
                        "conv_transpose2d backward {:?}→{:?} ×{}",
                        geo.small, geo.big, geo.channels
                    )
                },
                || cpu::backward(&geo, cin, &xs, &ws, &g),
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
