//! `conv_transpose2d` (and 1-D): PyTorch semantics, weight `[C_in, C_out, kh, kw]` stored
//! as a `C_in × (C_out·kh·kw)` matrix; output size `(H−1)·s − 2p + d·(k−1) + op + 1`.
//!
//! Forward per sample: `out = col2im(Wᵀ · x) + b` — no inserted zeros, and the output
//! padding only enlarges the grid being scattered into. Backward: `g_cols = im2col(g)`,
//! `dx = W · g_cols`, `dW = Σ x · g_colsᵀ`, `db = Σ g`.

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

/// conv_transpose2d on a device: `x` is `batch × C_in·H·W`, `w` is `C_in ×
/// C_out·kh·kw`, the output `batch × C_out·Ho·Wo` with `epilogue` applied.
pub trait ConvTranspose2dKernel<E: Real>: Device {
    /// What the forward keeps for the backward when `keep` is set.
    type Saved: Send + Sync + 'static;

    #[allow(clippy::too_many_arguments)]
    fn conv_transpose2d_forward(
        &self,
        geo: &Geometry,
        cin: usize,
        x: &Self::Buf<E>,
        w: &Self::Buf<E>,
        b: Option<&Self::Buf<E>>,
        epilogue: Epilogue,
        keep: bool,
    ) -> (Self::Buf<E>, Self::Saved);

    /// `(dx, dW, db)` from the output gradient `g` (which the kernel may overwrite).
    #[allow(clippy::too_many_arguments)]
    fn conv_transpose2d_backward(
        &self,
        geo: &Geometry,
        cin: usize,
        saved: &Self::Saved,
        x: &Self::Buf<E>,
        w: &Self::Buf<E>,
        g: Self::Buf<E>,
    ) -> (Self::Buf<E>, Self::Buf<E>, Self::Buf<E>);
}

/// `x: (batch, C_in·H·W)` → `(batch, C_out·Ho·Wo)`; `geo.big` is the *output* grid,
/// `geo.channels` the output channels, `geo.small` the input grid.
pub fn conv_transpose2d<D: ConvTranspose2dKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    x: Var,
    w: Var,
    b: Option<Var>,
    geo: Geometry,
    epilogue: Epilogue,
) -> Var {
    let cin = w.rows;
    let label = move || {
        format!(
            "conv_transpose2d backward {:?}→{:?} ×{}",
            geo.small, geo.big, geo.channels
        )
    };
    weighted_op(
        tape,
        x,
        w,
        b,
        geo.big_len(),
        label,
        |dev, xs, ws, bs, keep| dev.conv_transpose2d_forward(&geo, cin, xs, ws, bs, epilogue, keep),
        move |dev, s, xs, ws, g| dev.conv_transpose2d_backward(&geo, cin, s, xs, ws, g),
    )
}
