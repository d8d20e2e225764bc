//! `linear`: `y = x·W + b` with `W` stored `in × out` (the transpose of PyTorch's
//! layout, so the forward is one row-major GEMM with no transposed operand), as one op:
//! the product, then the bias added in place. Backward: `∂b = Σ_rows g`, then the
//! product's backward ([`crate::ops::matmul`]).

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use crate::error::{EngineError, Result};
use crate::ops::matmul::{matmul, matmul_backward, product, MatmulKernel};
use crate::tape::{Tape, Var};
use crate::tensor::Real;

/// The broadcast bias of a layer on a device.
pub trait BiasKernel<E: Real>: MatmulKernel<E> {
    /// `y[i, j] += b[j]` for every row `i` of the `cols`-wide `y`.
    fn add_bias(&self, y: &mut Self::Buf<E>, b: &Self::Buf<E>, cols: usize);

    /// `∂b`: the column sums of the `rows × cols` gradient `g`, row by row from the
    /// first (the order fixes the rounding).
    fn bias_grad(&self, g: &Self::Buf<E>, rows: usize, cols: usize) -> Self::Buf<E>;
}

/// `x · w + b`; `b` is `1 × out`.
pub fn linear<D: BiasKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    x: Var,
    w: Var,
    b: Option<Var>,
) -> Result<Var> {
    let Some(b) = b else {
        return matmul(tape, x, w);
    };
    let (m, n) = (x.rows, w.cols);
    if b.len() != n {
        return Err(EngineError::ShapeMismatch {
            op: "linear (bias)",
            lhs: (m, n),
            rhs: (1, b.len()),
        });
    }
    let mut out = product(tape, x, w)?;
    let dev = tape.dev();
    dev.add_bias(&mut out, tape.value(b), n);
    let out = tape.output(out, m, n, &[x, w, b]);
    tape.on_backward(out, move |pass| {
        let Some(g) = pass.take_grad(out) else {
            return Ok(());
        };
        if pass.wants(b) {
            let db = pass.dev().bias_grad(&g, m, n);
            pass.add_grad(b, db);
        }
        matmul_backward(pass, x, w, &g);
        Ok(())
    });
    Ok(out)
}
