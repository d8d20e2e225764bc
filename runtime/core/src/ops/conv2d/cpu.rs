//! Host kernels of conv2d: im2col + GEMM per sample.

use crate::ops::gemm::{gemm, Tr};
use crate::ops::im2col::Geometry;
use crate::ops::tape::sum_over_samples;
use crate::tensor::Real;
use rayon::prelude::*;

/// Returns the output and, when `keep` is set, every sample's column matrix.
pub fn forward<E: Real>(
    geo: &Geometry,
    cout: usize,
    x: &[E],
    w: &[E],
    b: Option<&[E]>,
    keep: bool,
) -> (Vec<E>, Vec<E>) {
    let (k, n, inp) = (geo.col_rows(), geo.col_cols(), geo.big_len());
    let batch = x.len() / inp;
    let mut out = vec![E::zero(); batch * cout * n];
    if geo.is_pointwise() {
        // A 1×1, stride-1, unpadded convolution reads its input as the columns.
        out.par_chunks_mut(cout * n)
            .zip(x.par_chunks(inp))
            .for_each(|(ob, xb)| {
                gemm(cout, n, k, w, Tr::No, xb, Tr::No, ob, false, 1);
                add_bias(ob, b, n);
            });
        return (out, vec![]);
    }
    let mut cols = vec![E::zero(); if keep { batch * k * n } else { 0 }];
    let work = |(xb, (ob, cb)): (&[E], (&mut [E], &mut [E]))| {
        geo.im2col(xb, cb);
        gemm(cout, n, k, w, Tr::No, cb, Tr::No, ob, false, 1);
        add_bias(ob, b, n);
    };
    if keep {
        x.par_chunks(inp)
            .zip(out.par_chunks_mut(cout * n).zip(cols.par_chunks_mut(k * n)))
            .for_each(work);
    } else {
        x.par_chunks(inp)
            .zip(out.par_chunks_mut(cout * n))
            .for_each_init(
                || vec![E::zero(); k * n],
                |cb, (xb, ob)| work((xb, (ob, cb))),
            );
    }
    (out, cols)
}

fn add_bias<E: Real>(out: &mut [E], b: Option<&[E]>, n: usize) {
    if let Some(b) = b {
        for (c, row) in out.chunks_mut(n).enumerate() {
            row.iter_mut().for_each(|v| *v += b[c]);
        }
    }
}

/// Gradients of input, weight and bias from the output gradient `g`; `cols` are the
/// forward's column matrices (empty for a pointwise convolution, which uses `x`).
pub fn backward<E: Real>(
    geo: &Geometry,
    cout: usize,
    batch: usize,
    cols: &[E],
    x: &[E],
    w: &[E],
    g: &[E],
) -> (Vec<E>, Vec<E>, Vec<E>) {
    let (k, n, inp) = (geo.col_rows(), geo.col_cols(), geo.big_len());
    let cols = if geo.is_pointwise() { x } else { cols };
    let dw = sum_over_samples(batch, cout * k, |i, acc| {
        let gb = &g[i * cout * n..(i + 1) * cout * n];
        gemm(
            cout,
            k,
            n,
            gb,
            Tr::No,
            &cols[i * k * n..(i + 1) * k * n],
            Tr::Yes,
            acc,
            true,
            1,
        );
    });
    let db = sum_over_samples(batch, cout, |i, acc| {
        let gb = &g[i * cout * n..(i + 1) * cout * n];
        for (c, row) in gb.chunks(n).enumerate() {
            acc[c] += row.iter().copied().sum::<E>();
        }
    });
    let mut dx = vec![E::zero(); batch * inp];
    dx.par_chunks_mut(inp).enumerate().for_each_init(
        || vec![E::zero(); if geo.is_pointwise() { 0 } else { k * n }],
        |dcols, (i, dxb)| {
            let gb = &g[i * cout * n..(i + 1) * cout * n];
            if geo.is_pointwise() {
                gemm(k, n, cout, w, Tr::Yes, gb, Tr::No, dxb, false, 1);
            } else {
                gemm(k, n, cout, w, Tr::Yes, gb, Tr::No, dcols, false, 1);
                geo.col2im(dcols, dxb);
            }
        },
    );
    (dx, dw, db)
}
