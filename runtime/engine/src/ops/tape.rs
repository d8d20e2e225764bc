//! Plumbing shared by the hand-written ops: how a host-computed forward and backward
//! join dfdx's tape.
//!
//! dfdx's own conv kernels are nightly-only, so conv ops, the SVD projector and a few
//! element-wise ops compute on host slices and register their backward with
//! `Tape::add_backward_op`. Gradients are looked up by a tensor's id, so a backward
//! closure keeps `ghost`s (id + shape, no data) of its inputs and output.

use crate::tensor::Real;

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

use crate::pool::{self, Buf};
use crate::tensor::{host, Mat, Vector};
use dfdx::prelude::*;
use rayon::prelude::*;

/// Host data a weighted op's forward saves for its backward, and the op's inputs.
pub struct Saved<E: pool::Shelved, S> {
    pub state: S,
    pub x: Buf<E>,
    pub w: Buf<E>,
}

/// A layer `y = f(x; W, b)` computed on host slices: `forward(x, W, b)` returns the
/// output (`cols` per sample) and the state its backward needs; `backward(saved, g)`
/// returns `(dx, dW, db)`. Activation-sized buffers (the saved input, the mask, `dx`,
/// the output gradient once used) come from and go back to [`pool`], so that after the
/// first step they cost neither an allocation nor a zero-fill. The tape plumbing
/// (ghosts, gradient lookup, accumulation, debug timing under `label`, the epilogue) is
/// the same for every such op, so it lives here.
#[allow(clippy::too_many_arguments)]
pub fn weighted_op<E: Real, T: Tape<E, Cpu>, S: 'static>(
    x: Mat<E, T>,
    w: &Mat<E>,
    b: Option<&Vector<E>>,
    cols: usize,
    epilogue: Epilogue,
    label: impl Fn() -> String + 'static,
    forward: impl for<'m> FnOnce(&[E], &[E], Option<&[E]>, Vec<Finish<'m>>) -> (Vec<E>, S),
    backward: impl FnOnce(&Saved<E, S>, &[E]) -> (Buf<E>, Buf<E>, Buf<E>) + 'static,
) -> Mat<E, T> {
    let batch = x.shape().0;
    let (x, mut tape) = x.split_tape();
    let (xs, ws) = (host(&x), host(w));
    let bs = b.map(|b| b.as_vec());
    // Where the ReLU passed its input: the backward's gradient mask, written by the
    // kernels sample by sample (every element).
    let relu = epilogue == Epilogue::Relu;
    let mut mask: Option<Buf<bool>> = (relu && T::OWNS_TAPE).then(|| pool::take(batch * cols));
    let finish = finishes(relu, mask.as_deref_mut(), batch, cols);
    let (out, state) = forward(&xs, &ws, bs.as_deref(), finish);
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
            let mut g = grad_of!(grads, og);
            if let Some(mask) = &mask {
                g.par_chunks_mut(1 << 16)
                    .zip(mask.par_chunks(1 << 16))
                    .for_each(|(g, m)| {
                        g.iter_mut()
                            .zip(m)
                            .for_each(|(g, &on)| *g = if on { *g } else { E::zero() })
                    });
            }
            let (dx, dw, db) = timing::timed(label, || backward(&saved, &g));
            accumulate!(grads, xg, dx);
            accumulate!(grads, wg, dw);
            if let Some(bg) = bg {
                accumulate!(grads, bg, db);
            }
            // Same length as this op's output: the next step's forward takes it.
            pool::give(g);
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// One sample's epilogue, which a kernel applies right after adding the sample's bias,
/// while its output is still in cache: the ReLU, and this sample's share of the mask
/// the backward needs (when there is a tape).
pub struct Finish<'m> {
    relu: bool,
    mask: Option<&'m mut [bool]>,
}

impl Finish<'_> {
    pub fn apply<E: Real>(self, out: &mut [E]) {
        if !self.relu {
            return;
        }
        match self.mask {
            Some(m) => {
                for (v, m) in out.iter_mut().zip(m) {
                    *m = *v > E::zero();
                    if !*m {
                        *v = E::zero();
                    }
                }
            }
            None => out.iter_mut().for_each(|v| *v = v.max(E::zero())),
        }
    }
}

/// One [`Finish`] per sample of a `batch × cols` output, for a kernel to zip with its
/// per-sample output chunks.
pub fn finishes(
    relu: bool,
    mask: Option<&mut [bool]>,
    batch: usize,
    cols: usize,
) -> Vec<Finish<'_>> {
    match mask {
        Some(m) => m
            .chunks_mut(cols.max(1))
            .map(|m| Finish {
                relu,
                mask: Some(m),
            })
            .collect(),
        None => (0..batch).map(|_| Finish { relu, mask: None }).collect(),
    }
}

/// Runs `f` on each of `n` samples in parallel, each adding into a partial sum of
/// length `len`; returns the total. Used for weight gradients summed over a batch.
///
/// Samples are grouped in fixed chunks of 8 and the chunk sums added in order, so the
/// floating-point result does not depend on thread scheduling: runs are reproducible.
/// The partial sums and the total come from [`pool`].
pub fn sum_over_samples<E: Real>(
    n: usize,
    len: usize,
    f: impl Fn(usize, &mut [E]) + Sync + Send,
) -> Buf<E> {
    use rayon::prelude::*;
    const CHUNK: usize = 8;
    let partials: Vec<Buf<E>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = pool::zeroed(len);
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                f(i, &mut acc);
            }
            acc
        })
        .collect();
    sum_in_order(partials, len)
}

/// The element-wise sum of per-chunk partial sums, added in chunk order so the result
/// does not depend on which thread finished first.
pub fn sum_in_order<E: Real>(partials: Vec<Buf<E>>, len: usize) -> Buf<E> {
    let mut total = pool::zeroed(len);
    for p in partials {
        total.iter_mut().zip(p.iter()).for_each(|(t, v)| *t += *v);
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
