//! Host kernels of conv_transpose2d: GEMM + col2im per sample.

use crate::ops::gemm::{gemm, Tr};
use crate::ops::im2col::Geometry;
use crate::ops::tape::sum_over_samples;
use crate::tensor::Real;
use rayon::prelude::*;

pub fn forward<E: Real>(geo: &Geometry, cin: usize, x: &[E], w: &[E], b: Option<&[E]>) -> Vec<E> {
    let (k, n, outn) = (geo.col_rows(), geo.col_cols(), geo.big_len());
    let batch = x.len() / (cin * n);
    let plane = geo.big[0] * geo.big[1];
    let mut out = vec![E::zero(); batch * outn];
    out.par_chunks_mut(outn).enumerate().for_each_init(
        || vec![E::zero(); k * n],
        |cols, (i, ob)| {
            let xb = &x[i * cin * n..(i + 1) * cin * n];
            gemm(k, n, cin, w, Tr::Yes, xb, Tr::No, cols, false, 1);
            geo.col2im(cols, ob);
            if let Some(b) = b {
                for (c, p) in ob.chunks_mut(plane).enumerate() {
                    p.iter_mut().for_each(|v| *v += b[c]);
                }
            }
        },
    );
    out
}

pub fn backward<E: Real>(
    geo: &Geometry,
    cin: usize,
    x: &[E],
    w: &[E],
    g: &[E],
) -> (Vec<E>, Vec<E>, Vec<E>) {
    let (k, n, outn) = (geo.col_rows(), geo.col_cols(), geo.big_len());
    let batch = x.len() / (cin * n);
    let plane = geo.big[0] * geo.big[1];
    let mut dx = vec![E::zero(); batch * cin * n];
    // Each sample's gradient columns, needed by both dx and dW.
    let mut gcols = vec![E::zero(); batch * k * n];
    dx.par_chunks_mut(cin * n)
        .zip(gcols.par_chunks_mut(k * n))
        .enumerate()
        .for_each(|(i, (dxb, gc))| {
            geo.im2col(&g[i * outn..(i + 1) * outn], gc);
            gemm(cin, n, k, w, Tr::No, gc, Tr::No, dxb, false, 1);
        });
    let dw = sum_over_samples(batch, cin * k, |i, acc| {
        let xb = &x[i * cin * n..(i + 1) * cin * n];
        gemm(
            cin,
            k,
            n,
            xb,
            Tr::No,
            &gcols[i * k * n..(i + 1) * k * n],
            Tr::Yes,
            acc,
            true,
            1,
        );
    });
    let db = sum_over_samples(batch, geo.channels, |i, acc| {
        for (c, p) in g[i * outn..(i + 1) * outn].chunks(plane).enumerate() {
            acc[c] += p.iter().copied().sum::<E>();
        }
    });
    (dx, dw, db)
}
