//! `matmul`: the product of two row-major matrices, `x (m × k) · w (k × n)`. The linear
//! layers and the fixed-basis projection are made of it. Backward:
//! `∂x += g · wᵀ`, `∂w += xᵀ · g`, each accumulated in place into the gradient so far.

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
pub(crate) mod tests;

pub use crate::ops::gemm::Tr;

use crate::error::{EngineError, Result};
use crate::tape::TapeKernel;
use crate::tape::{timing, Pass, Tape, Var};
use crate::tensor::Real;

/// Matrix products on a device.
pub trait MatmulKernel<E: Real>: TapeKernel<E> {
    /// `c = op(a) · op(b)`, or `c += …` when `accumulate`: `op(a)` is `m × k` (stored
    /// `k × m` when `ta` is [`Tr::Yes`]), `op(b)` is `k × n`, `c` is `m × n`.
    #[allow(clippy::too_many_arguments)]
    fn matmul_into(
        &self,
        dims: (usize, usize, usize),
        a: &Self::Buf<E>,
        ta: Tr,
        b: &Self::Buf<E>,
        tb: Tr,
        c: &mut Self::Buf<E>,
        accumulate: bool,
    );
}

/// The forward product `x · w` of two values on `tape`, their shapes checked.
pub fn product<D: MatmulKernel<E>, E: Real>(
    tape: &Tape<D, E>,
    x: Var,
    w: Var,
) -> Result<D::Buf<E>> {
    let ((m, k), (k2, n)) = (x.shape(), w.shape());
    if k != k2 {
        return Err(EngineError::ShapeMismatch {
            op: "matmul",
            lhs: (m, k),
            rhs: (k2, n),
        });
    }
    let dev = tape.dev();
    let mut out = dev.zeros(m * n);
    dev.matmul_into(
        (m, n, k),
        tape.value(x),
        Tr::No,
        tape.value(w),
        Tr::No,
        &mut out,
        false,
    );
    Ok(out)
}

/// `x · w`.
pub fn matmul<D: MatmulKernel<E>, E: Real>(tape: &mut Tape<D, E>, x: Var, w: Var) -> Result<Var> {
    let out = product(tape, x, w)?;
    let (m, n) = (x.rows, w.cols);
    let out = tape.output(out, m, n, &[x, w]);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            matmul_backward(pass, x, w, &g);
        }
        Ok(())
    });
    Ok(out)
}

/// The backward of `out = x · w` from `g = ∂ℓ/∂out`: `∂x += g · wᵀ`, `∂w += xᵀ · g`, each
/// only where wanted (the input batch wants none).
pub fn matmul_backward<D: MatmulKernel<E>, E: Real>(
    pass: &mut Pass<D, E>,
    x: Var,
    w: Var,
    g: &D::Buf<E>,
) {
    let ((m, k), n) = (x.shape(), w.cols);
    timing::timed(
        || format!("matmul backward {m}×{k}·{k}×{n}"),
        || {
            if let Some(mut gx) = pass.grad_or_zeros(x) {
                let w = pass.value(w);
                pass.dev()
                    .matmul_into((m, k, n), g, Tr::No, w, Tr::Yes, &mut gx, true);
                pass.put_grad(x, gx);
            }
            if let Some(mut gw) = pass.grad_or_zeros(w) {
                let x = pass.value(x);
                pass.dev()
                    .matmul_into((k, n, m), x, Tr::Yes, g, Tr::No, &mut gw, true);
                pass.put_grad(w, gw);
            }
            if timing::on() {
                pass.dev().synchronize();
            }
        },
    );
}
