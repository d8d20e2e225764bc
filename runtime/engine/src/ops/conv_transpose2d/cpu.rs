//! Host kernels of conv_transpose2d: GEMM + col2im per sample.

use crate::device::Cpu;
use crate::ops::gemm::{gemm, Tr};
use crate::ops::host::{
    apply_mask, finishes, relu_mask, sum_in_order, sum_over_samples, Finish, Kept,
};
use crate::ops::weighted::Epilogue;
use crate::pool::{self, Buf};
use crate::scratch;
use crate::tensor::Real;
use rayon::prelude::*;
use rrae_artifact::Geometry;

impl<E: Real> super::ConvTranspose2dKernel<E> for Cpu {
    /// The fused ReLU's mask: the backward reads `x` and `W` alone.
    type Saved = Kept<()>;

    fn conv_transpose2d_forward(
        &self,
        geo: &Geometry,
        cin: usize,
        x: &Buf<E>,
        w: &Buf<E>,
        b: Option<&Buf<E>>,
        epilogue: Epilogue,
        keep: bool,
    ) -> (Buf<E>, Kept<()>) {
        let (batch, cols) = (x.len() / (cin * geo.col_cols()), geo.big_len());
        let relu = epilogue == Epilogue::Relu;
        let mut mask = relu_mask(relu, keep, batch * cols);
        let fin = finishes(relu, mask.as_deref_mut(), batch, cols);
        let out = forward(geo, cin, x, w, b.map(|b| &b[..]), fin);
        (Buf::from_vec(out), Kept { state: (), mask })
    }

    fn conv_transpose2d_backward(
        &self,
        geo: &Geometry,
        cin: usize,
        saved: &Kept<()>,
        x: &Buf<E>,
        w: &Buf<E>,
        mut g: Buf<E>,
    ) -> (Buf<E>, Buf<E>, Buf<E>) {
        apply_mask(&mut g, saved.mask.as_deref());
        backward(geo, cin, x, w, &g)
    }
}

pub fn forward<E: Real>(
    geo: &Geometry,
    cin: usize,
    x: &[E],
    w: &[E],
    b: Option<&[E]>,
    finish: Vec<Finish>,
) -> Vec<E> {
    let (k, n, outn) = (geo.col_rows(), geo.col_cols(), geo.big_len());
    let batch = x.len() / (cin * n);
    let plane = geo.big[0] * geo.big[1];
    // From the pool, stale: each sample's share is zeroed on its own thread (in cache,
    // in parallel) before col2im adds into it.
    let mut out = pool::take(batch * outn);
    let samples = out.par_chunks_mut(outn).enumerate().zip(finish);
    samples.for_each(|((i, ob), f)| {
        ob.fill(E::zero());
        let xb = &x[i * cin * n..(i + 1) * cin * n];
        // Every column is written by the product before col2im reads it.
        scratch::with(k * n, |cols| {
            gemm(k, n, cin, w, Tr::Yes, xb, Tr::No, cols, false, 1);
            geo.col2im(cols, ob);
        });
        if let Some(b) = b {
            for (c, p) in ob.chunks_mut(plane).enumerate() {
                p.iter_mut().for_each(|v| *v += b[c]);
            }
        }
        f.apply(ob);
    });
    out.into_vec()
}

/// Samples per work item of the backward: each item sums its own share of dW, and the
/// shares are added in order, so the result does not depend on thread timing.
const CHUNK: usize = 8;

pub fn backward<E: Real>(
    geo: &Geometry,
    cin: usize,
    x: &[E],
    w: &[E],
    g: &[E],
) -> (Buf<E>, Buf<E>, Buf<E>) {
    let (k, n, outn) = (geo.col_rows(), geo.col_cols(), geo.big_len());
    let batch = x.len() / (cin * n);
    let plane = geo.big[0] * geo.big[1];
    // Every sample's dx is written (not added) by its product below.
    let mut dx = pool::take(batch * cin * n);
    // Per work item: one sample's gradient columns at a time (a buffer that stays in
    // cache), read by both products: dx = W · g_cols and dW += x · g_colsᵀ.
    let shares: Vec<Buf<E>> = dx
        .par_chunks_mut(CHUNK * cin * n)
        .enumerate()
        .map(|(c, dxc)| {
            let mut dw = pool::zeroed(cin * k);
            // im2col writes every column.
            scratch::with(k * n, |gc| {
                for (j, dxb) in dxc.chunks_mut(cin * n).enumerate() {
                    let i = c * CHUNK + j;
                    geo.im2col(&g[i * outn..(i + 1) * outn], gc);
                    gemm(cin, n, k, w, Tr::No, gc, Tr::No, dxb, false, 1);
                    let xb = &x[i * cin * n..(i + 1) * cin * n];
                    gemm(cin, k, n, xb, Tr::No, gc, Tr::Yes, &mut dw, true, 1);
                }
            });
            dw
        })
        .collect();
    let dw = sum_in_order(shares, cin * k);
    let db = sum_over_samples(batch, geo.channels, |i, acc| {
        for (c, p) in g[i * outn..(i + 1) * outn].chunks(plane).enumerate() {
            acc[c] += p.iter().copied().sum::<E>();
        }
    });
    (dx, dw, db)
}
