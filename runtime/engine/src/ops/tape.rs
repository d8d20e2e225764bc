//! Plumbing shared by the hand-written ops: how a device kernel's forward and backward
//! join dfdx's tape.
//!
//! dfdx's own conv kernels are nightly-only, so conv ops, the SVD projector and a few
//! element-wise ops run their own kernels ([`crate::device`]) and register their
//! backward with `Tape::add_backward_op`. Gradients are looked up by a tensor's id, so a
//! backward closure keeps `ghost`s (id + shape, no data) of its inputs and output.

use crate::device::Cpu;
use crate::pool::Buf;
use crate::tensor::{host, Mat, Real, Vector};
use dfdx::prelude::*;

/// Takes the gradient flowing into an op's output (zeros if nothing reached it).
///
/// The op that made a tensor is the last to read its gradient (the tape runs in
/// reverse), so the buffer is moved out rather than copied.
///
/// Macros, not functions: dfdx's ghost type and its `Tensorlike` trait are not
/// nameable outside dfdx, so only type inference can carry them.
macro_rules! grad_of {
    ($grads:expr, $ghost:expr) => {
        std::mem::take(&mut **$grads.get_or_alloc_mut(&$ghost)?)
    };
}

/// Adds a host slice into the gradient of a ghost.
macro_rules! accumulate {
    ($grads:expr, $ghost:expr, $delta:expr) => {{
        let g = $grads.get_or_alloc_mut(&$ghost)?;
        $crate::ops::tape::add_into(g, &$delta);
    }};
}

pub(crate) use {accumulate, grad_of};

/// `acc += delta`, on the rayon pool for activation-sized buffers.
pub fn add_into<E: Real>(acc: &mut [E], delta: &[E]) {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 16;
    if acc.len() < 2 * CHUNK {
        acc.iter_mut().zip(delta).for_each(|(a, d)| *a += *d);
    } else {
        acc.par_chunks_mut(CHUNK)
            .zip(delta.par_chunks(CHUNK))
            .for_each(|(a, d)| a.iter_mut().zip(d).for_each(|(a, d)| *a += *d));
    }
}

/// What a weighted op applies to its output before handing it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Epilogue {
    None,
    /// `max(0, ·)`: a `relu` that follows a convolution is fused into it, which saves
    /// dfdx's separate passes (and buffers) over the activation forward and backward.
    Relu,
}

/// What a weighted op's forward saves for its backward: the kernel's own state (column
/// matrices, a ReLU mask) and the op's inputs, as device buffers.
pub struct Saved<E: Real, K> {
    pub state: K,
    pub x: Buf<E>,
    pub w: Buf<E>,
}

/// A layer `y = f(x; W, b)` whose kernels run on a device: `forward(dev, x, W, b, keep)`
/// returns the output (`cols` per sample) and the state its backward needs (`keep`:
/// whether there will be a backward); `backward(dev, state, x, W, g)` returns `(dx, dW,
/// db)`. The tape plumbing (ghosts, gradient lookup, accumulation, debug timing under
/// `label`) is the same for every such op, so it lives here. Activation-sized buffers
/// come from and go back to the pool, so that after the first step they cost neither
/// an allocation nor a zero-fill.
#[allow(clippy::too_many_arguments)]
pub fn weighted_op<E: Real, T: Tape<E, dfdx::tensor::Cpu>, K: Send + Sync + 'static>(
    x: Mat<E, T>,
    w: &Mat<E>,
    b: Option<&Vector<E>>,
    cols: usize,
    label: impl Fn() -> String + 'static,
    forward: impl FnOnce(&Cpu, &Buf<E>, &Buf<E>, Option<&Buf<E>>, bool) -> (Buf<E>, K),
    backward: impl FnOnce(&Cpu, &K, &Buf<E>, &Buf<E>, Buf<E>) -> (Buf<E>, Buf<E>, Buf<E>) + 'static,
) -> Mat<E, T> {
    let batch = x.shape().0;
    let (x, mut tape) = x.split_tape();
    let (xs, ws) = (host(&x), host(w));
    let bs = b.map(|b| Buf::from_vec(b.as_vec()));
    let (out, state) = forward(&Cpu, &xs, &ws, bs.as_ref(), T::OWNS_TAPE);
    let out: Mat<E> = x.device().tensor_from_vec(out.into_vec(), (batch, cols));
    if T::OWNS_TAPE {
        let (xg, wg, og) = (x.ghost(), w.ghost(), out.ghost());
        let bg = b.map(|b| b.ghost());
        let saved = Saved {
            state,
            x: xs,
            w: ws,
        };
        tape.add_backward_op(move |grads| {
            // Same length as this op's output: dropped into the pool, where the next
            // step's forward takes it.
            let g = Buf::from_vec(grad_of!(grads, og));
            let (dx, dw, db) = timing::timed(label, || {
                backward(&Cpu, &saved.state, &saved.x, &saved.w, g)
            });
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

/// Backward wall time per op, collected only while `RRAE_DEBUG` profiling is on.
pub mod timing {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    static ON: AtomicBool = AtomicBool::new(false);
    static ROWS: Mutex<Vec<(String, Duration, usize)>> = Mutex::new(Vec::new());

    pub fn enable(on: bool) {
        ON.store(on, Ordering::Relaxed);
    }

    /// Runs `f`, adding its time under `label` when profiling.
    pub fn timed<R>(label: impl FnOnce() -> String, f: impl FnOnce() -> R) -> R {
        if !ON.load(Ordering::Relaxed) {
            return f();
        }
        let t0 = Instant::now();
        let r = f();
        let d = t0.elapsed();
        let label = label();
        if let Ok(mut rows) = ROWS.lock() {
            match rows.iter_mut().find(|r| r.0 == label) {
                Some(r) => {
                    r.1 += d;
                    r.2 += 1;
                }
                None => rows.push((label, d, 1)),
            }
        }
        r
    }

    /// The collected rows, emptied.
    pub fn take() -> Vec<(String, Duration, usize)> {
        ROWS.lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }
}
