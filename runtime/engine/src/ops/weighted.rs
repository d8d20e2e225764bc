//! The tape plumbing every weighted op shares (convolutions and their transposes): a
//! layer `y = f(x; W, b)` whose forward and backward are a device's kernels.

use crate::tape::TapeKernel;
use crate::tape::{timing, Tape, Var};
use crate::tensor::Real;

/// What a weighted op applies to its output before handing it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Epilogue {
    None,
    /// `max(0, ·)`: a `relu` that follows a convolution is fused into it, which saves
    /// separate passes (and buffers) over the activation forward and backward.
    Relu,
}

/// A layer `y = f(x; W, b)`: `forward(dev, x, W, b, keep)` returns the output (`cols`
/// per sample) and the state its backward needs (`keep`: whether there will be a
/// backward); `backward(dev, state, x, W, g)` returns `(dx, dW, db)`. The inputs stay
/// on the tape for the backward to read; the gradients go where they are wanted, and
/// the debug timing under `label`.
#[allow(clippy::too_many_arguments)]
pub fn weighted_op<D: TapeKernel<E>, E: Real, K: Send + Sync + 'static>(
    tape: &mut Tape<D, E>,
    x: Var,
    w: Var,
    b: Option<Var>,
    cols: usize,
    label: impl Fn() -> String + 'static,
    forward: impl FnOnce(&D, &D::Buf<E>, &D::Buf<E>, Option<&D::Buf<E>>, bool) -> (D::Buf<E>, K),
    backward: impl FnOnce(&D, &K, &D::Buf<E>, &D::Buf<E>, D::Buf<E>) -> (D::Buf<E>, D::Buf<E>, D::Buf<E>)
        + 'static,
) -> Var {
    let inputs: Vec<Var> = [Some(x), Some(w), b].into_iter().flatten().collect();
    let keep = tape.records() && inputs.iter().any(|v| tape.wants(*v));
    let (out, state) = forward(
        tape.dev(),
        tape.value(x),
        tape.value(w),
        b.map(|b| tape.value(b)),
        keep,
    );
    let out = tape.output(out, x.rows, cols, &inputs);
    tape.on_backward(out, move |pass| {
        let Some(g) = pass.take_grad(out) else {
            return Ok(());
        };
        let (dx, dw, db) = timing::timed(label, || {
            let grads = backward(pass.dev(), &state, pass.value(x), pass.value(w), g);
            if timing::on() {
                pass.dev().synchronize();
            }
            grads
        });
        pass.add_grad(x, dx);
        pass.add_grad(w, dw);
        if let Some(b) = b {
            pass.add_grad(b, db);
        }
        Ok(())
    });
    out
}
