//! What the CPU kernels of the weighted ops share: the per-sample epilogue (a fused
//! ReLU and its mask) and batch sums whose result does not depend on thread timing.

use crate::pool::{self, Buf};
use crate::tensor::Real;
use rayon::prelude::*;

/// A CPU kernel's state for the backward: what the kernel itself kept (column
/// matrices, or nothing) and, under a fused ReLU with a backward to come, where the ReLU
/// passed its input.
pub struct Kept<S> {
    pub state: S,
    pub mask: Option<Buf<bool>>,
}

/// The mask a fused ReLU writes sample by sample (every element), when there will be a
/// backward to apply it in.
pub fn relu_mask(relu: bool, keep: bool, len: usize) -> Option<Buf<bool>> {
    (relu && keep).then(|| pool::take(len))
}

/// Zeroes the output gradient where a fused ReLU cut its input.
pub fn apply_mask<E: Real>(g: &mut [E], mask: Option<&[bool]>) {
    if let Some(mask) = mask {
        g.par_chunks_mut(1 << 16)
            .zip(mask.par_chunks(1 << 16))
            .for_each(|(g, m)| {
                g.iter_mut()
                    .zip(m)
                    .for_each(|(g, &on)| *g = if on { *g } else { E::zero() })
            });
    }
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
