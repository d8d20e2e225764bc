//! The sum of two values (a loss plus a penalty), and the CPU's [`TapeKernel`]: the
//! element-wise arithmetic the tape itself needs.

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use crate::error::{EngineError, Result};
use crate::tape::{Tape, TapeKernel, Var};
use crate::tensor::Real;

/// `a + b` for two values of one shape; the gradient reaches both unchanged.
pub fn add<D: TapeKernel<E>, E: Real>(tape: &mut Tape<D, E>, a: Var, b: Var) -> Result<Var> {
    if a.shape() != b.shape() {
        return Err(EngineError::ShapeMismatch {
            op: "add",
            lhs: a.shape(),
            rhs: b.shape(),
        });
    }
    let out = tape.dev().add(tape.value(a), tape.value(b));
    let out = tape.output(out, a.rows, a.cols, &[a, b]);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            if pass.wants(a) {
                let ga = pass.dev().copy(&g);
                pass.add_grad(a, ga);
            }
            pass.add_grad(b, g);
        }
        Ok(())
    });
    Ok(out)
}
