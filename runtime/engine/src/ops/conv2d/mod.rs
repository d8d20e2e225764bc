//! `conv2d` (and `conv1d`, as a 2-D convolution of height 1): PyTorch semantics, weight
//! `[C_out, C_in, kh, kw]` stored as a `C_out × (C_in·kh·kw)` matrix.
//!
//! Forward per sample: `out = W · im2col(x) + b`; backward: `dW = Σ g · colsᵀ`,
//! `dx = col2im(Wᵀ · g)`, `db = Σ g`. With at most four output channels the same sums
//! run directly over row spans of the input, without the column matrix. Samples run
//! in parallel on the rayon pool.

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use crate::device::Device;
use crate::ops::weighted::{weighted_op, Epilogue};
use crate::tape::TapeKernel;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_artifact::Geometry;

/// conv2d on a device: `x` is `batch × C_in·H·W`, `w` is `C_out × C_in·kh·kw`, the
/// output `batch × C_out·Ho·Wo` with `epilogue` applied.
pub trait Conv2dKernel<E: Real>: Device {
    /// What the forward keeps for the backward when `keep` is set.
    type Saved: Send + Sync + 'static;

    #[allow(clippy::too_many_arguments)]
    fn conv2d_forward(
        &self,
        geo: &Geometry,
        cout: usize,
        x: &Self::Buf<E>,
        w: &Self::Buf<E>,
        b: Option<&Self::Buf<E>>,
        epilogue: Epilogue,
        keep: bool,
    ) -> (Self::Buf<E>, Self::Saved);

    /// `(dx, dW, db)` from the output gradient `g` (which the kernel may overwrite).
    #[allow(clippy::too_many_arguments)]
    fn conv2d_backward(
        &self,
        geo: &Geometry,
        cout: usize,
        saved: &Self::Saved,
        x: &Self::Buf<E>,
        w: &Self::Buf<E>,
        g: Self::Buf<E>,
    ) -> (Self::Buf<E>, Self::Buf<E>, Self::Buf<E>);
}

/// `x: (batch, C_in·H·W)` → `(batch, C_out·Ho·Wo)`; `geo.big` is the input grid.
pub fn conv2d<D: Conv2dKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    x: Var,
    w: Var,
    b: Option<Var>,
    geo: Geometry,
    epilogue: Epilogue,
) -> Var {
    let cout = w.rows;
    let label = move || format!("conv2d backward {:?}→{:?} ×{cout}", geo.big, geo.small);
    weighted_op(
        tape,
        x,
        w,
        b,
        cout * geo.col_cols(),
        label,
        |dev, xs, ws, bs, keep| dev.conv2d_forward(&geo, cout, xs, ws, bs, epilogue, keep),
        move |dev, s, xs, ws, g| dev.conv2d_backward(&geo, cout, s, xs, ws, g),
    )
}
