//! `conv2d` (and `conv1d`, as a 2-D convolution of height 1): PyTorch semantics, weight
//! `[C_out, C_in, kh, kw]` stored as a `C_out × (C_in·kh·kw)` matrix.
//!
//! Forward per sample: `out = W · im2col(x) + b`; backward: `dW = Σ g · colsᵀ`,
//! `dx = col2im(Wᵀ · g)`, `db = Σ g`. With at most four output channels the same sums
//! run directly over row spans of the input, without the column matrix. Samples run
//! in parallel on the rayon pool.

mod cpu;
#[cfg(test)]
mod tests;

use crate::ops::im2col::Geometry;
use crate::ops::tape::{weighted_op, Epilogue};
use crate::tensor::{Mat, Real, Vector};
use dfdx::prelude::*;

/// `x: (batch, C_in·H·W)` → `(batch, C_out·Ho·Wo)`; `geo.big` is the input grid.
pub fn conv2d<E: Real, T: Tape<E, Cpu>>(
    x: Mat<E, T>,
    w: &Mat<E>,
    b: Option<&Vector<E>>,
    geo: Geometry,
    epilogue: Epilogue,
) -> Mat<E, T> {
    let cout = w.shape().0;
    let batch = x.shape().0;
    let label = move || format!("conv2d backward {:?}→{:?} ×{cout}", geo.big, geo.small);
    weighted_op(
        x,
        w,
        b,
        cout * geo.col_cols(),
        epilogue,
        label,
        |xs, ws, bs, fin| cpu::forward(&geo, cout, xs, ws, bs, T::OWNS_TAPE, fin),
        // The column matrices are kept; `x` is read only by a pointwise convolution,
        // whose columns are `x` itself, and by the direct kernels (`cpu::direct`).
        move |s, g| cpu::backward(&geo, cout, batch, &s.state, &s.x, &s.w, g),
    )
}
