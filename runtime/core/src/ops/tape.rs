//! Plumbing shared by the hand-written ops: how a host-computed forward and backward
//! join dfdx's tape.
//!
//! dfdx's own conv kernels are nightly-only, so conv ops, the SVD projector and a few
//! element-wise ops compute on host slices and register their backward with
//! `Tape::add_backward_op`. Gradients are looked up by a tensor's id, so a backward
//! closure keeps `ghost`s (id + shape, no data) of its inputs and output.

use crate::tensor::Real;

/// Reads the gradient flowing into a ghost (zeros if nothing reached it).
///
/// Macros, not functions: dfdx's ghost type and its `Tensorlike` trait are not
/// nameable outside dfdx, so only type inference can carry them.
macro_rules! grad_of {
    ($grads:expr, $ghost:expr) => {
        $grads.get_or_alloc_mut(&$ghost)?.to_vec()
    };
}

/// Adds a host slice into the gradient of a ghost.
macro_rules! accumulate {
    ($grads:expr, $ghost:expr, $delta:expr) => {{
        let g = $grads.get_or_alloc_mut(&$ghost)?;
        for (g, d) in g.iter_mut().zip($delta.iter()) {
            *g += *d;
        }
    }};
}

pub(crate) use {accumulate, grad_of};

use crate::tensor::{Mat, Vector};
use dfdx::prelude::*;

/// Host data a weighted op's forward saves for its backward, and the op's inputs.
pub struct Saved<E, S> {
    pub state: S,
    pub x: Vec<E>,
    pub w: Vec<E>,
}

/// A layer `y = f(x; W, b)` computed on host slices: `forward(x, W, b)` returns the
/// output (`cols` per sample) and the state its backward needs; `backward(saved, g)`
/// returns `(dx, dW, db)`. The tape plumbing (ghosts, gradient lookup, accumulation,
/// debug timing under `label`) is the same for every such op, so it lives here.
pub fn weighted_op<E: Real, T: Tape<E, Cpu>, S: 'static>(
    x: Mat<E, T>,
    w: &Mat<E>,
    b: Option<&Vector<E>>,
    cols: usize,
    label: impl Fn() -> String + 'static,
    forward: impl FnOnce(&[E], &[E], Option<&[E]>) -> (Vec<E>, S),
    backward: impl FnOnce(&Saved<E, S>, &[E]) -> (Vec<E>, Vec<E>, Vec<E>) + 'static,
) -> Mat<E, T> {
    let batch = x.shape().0;
    let (x, mut tape) = x.split_tape();
    let (xs, ws) = (x.as_vec(), w.as_vec());
    let bs = b.map(|b| b.as_vec());
    let (out, state) = forward(&xs, &ws, bs.as_deref());
    let out: Mat<E> = x.device().tensor_from_vec(out, (batch, cols));
    if T::OWNS_TAPE {
        let (xg, wg, og) = (x.ghost(), w.ghost(), out.ghost());
        let bg = b.map(|b| b.ghost());
        let saved = Saved {
            state,
            x: xs,
            w: ws,
        };
        tape.add_backward_op(move |grads| {
            let g = grad_of!(grads, og);
            let (dx, dw, db) = timing::timed(label, || backward(&saved, &g));
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

/// Runs `f` on each of `n` samples in parallel, each adding into a partial sum of
/// length `len`; returns the total. Used for weight gradients summed over a batch.
///
/// Samples are grouped in fixed chunks of 8 and the chunk sums added in order, so the
/// floating-point result does not depend on thread scheduling: runs are reproducible.
pub fn sum_over_samples<E: Real>(
    n: usize,
    len: usize,
    f: impl Fn(usize, &mut [E]) + Sync + Send,
) -> Vec<E> {
    use rayon::prelude::*;
    const CHUNK: usize = 8;
    let partials: Vec<Vec<E>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = vec![E::zero(); len];
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                f(i, &mut acc);
            }
            acc
        })
        .collect();
    let mut total = vec![E::zero(); len];
    for p in partials {
        total.iter_mut().zip(&p).for_each(|(t, v)| *t += *v);
    }
    total
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
