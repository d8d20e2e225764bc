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
use crate::ops::tape::{weighted_op, Epilogue};
use crate::tensor::{Mat, Real, Vector};
use dfdx::prelude::*;

/// `x: (batch, C_in·H·W)` → `(batch, C_out·Ho·Wo)`; `geo.big` is the *output* grid,
/// `geo.channels` the output channels, `geo.small` the input grid.
pub fn conv_transpose2d<E: Real, T: Tape<E, Cpu>>(
    x: Mat<E, T>,
    w: &Mat<E>,
    b: Option<&Vector<E>>,
    geo: Geometry,
    epilogue: Epilogue,
) -> Mat<E, T> {
    let cin = w.shape().0;
    let label = move || {
        format!(
            "conv_transpose2d backward {:?}→{:?} ×{}",
            geo.small, geo.big, geo.channels
        )
    };
    weighted_op(
        x,
        w,
        b,
        geo.big_len(),
        epilogue,
        label,
        |xs, ws, bs, fin| (cpu::forward(&geo, cin, xs, ws, bs, fin), ()),
        move |s, g| cpu::backward(&geo, cin, &s.x, &s.w, g),
    )
}
