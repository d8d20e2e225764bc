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

/// Runs `f` on each of `n` samples in parallel, each producing a partial sum of
/// length `len`; returns the total. Used for weight gradients summed over a batch.
pub fn sum_over_samples<E: Real>(
    n: usize,
    len: usize,
    f: impl Fn(usize, &mut [E]) + Sync + Send,
) -> Vec<E> {
    use rayon::prelude::*;
    (0..n)
        .into_par_iter()
        .fold(
            || vec![E::zero(); len],
            |mut acc, i| {
                f(i, &mut acc);
                acc
            },
        )
        .reduce(
            || vec![E::zero(); len],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += *y);
                a
            },
        )
}
