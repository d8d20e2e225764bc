//! Host kernels of conv2d: im2col + GEMM per sample, or, for a few output channels
//! (a decoder's last layer), a direct convolution over row spans.

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

impl<E: Real> super::Conv2dKernel<E> for Cpu {
    /// Every sample's column matrix (empty for the pointwise and direct kernels, which
    /// read `x` itself) and the fused ReLU's mask.
    type Saved = Kept<Buf<E>>;

    fn conv2d_forward(
        &self,
        geo: &Geometry,
        cout: usize,
        x: &Buf<E>,
        w: &Buf<E>,
        b: Option<&Buf<E>>,
        epilogue: Epilogue,
        keep: bool,
    ) -> (Buf<E>, Kept<Buf<E>>) {
        let (batch, cols) = (x.len() / geo.big_len(), cout * geo.col_cols());
        let relu = epilogue == Epilogue::Relu;
        let mut mask = relu_mask(relu, keep, batch * cols);
        let fin = finishes(relu, mask.as_deref_mut(), batch, cols);
        let (out, state) = forward(geo, cout, x, w, b.map(|b| &b[..]), keep, fin);
        (Buf::from_vec(out), Kept { state, mask })
    }

    fn conv2d_backward(
        &self,
        geo: &Geometry,
        cout: usize,
        saved: &Kept<Buf<E>>,
        x: &Buf<E>,
        w: &Buf<E>,
        mut g: Buf<E>,
    ) -> (Buf<E>, Buf<E>, Buf<E>) {
        apply_mask(&mut g, saved.mask.as_deref());
        let batch = x.len() / geo.big_len();
        backward(geo, cout, batch, &saved.state, x, w, &g)
    }
}

/// Returns the output and, when `keep` is set, every sample's column matrix.
///
/// Both come from [`pool`] with stale contents: every element is written here.
pub fn forward<E: Real>(
    geo: &Geometry,
    cout: usize,
    x: &[E],
    w: &[E],
    b: Option<&[E]>,
    keep: bool,
    finish: Vec<Finish>,
) -> (Vec<E>, Buf<E>) {
    let (k, n, inp) = (geo.col_rows(), geo.col_cols(), geo.big_len());
    let batch = x.len() / inp;
    let mut out = pool::take(batch * cout * n);
    if direct(geo, cout) {
        out.par_chunks_mut(cout * n)
            .zip(x.par_chunks(inp))
            .zip(finish)
            .for_each(|((ob, xb), f)| {
                // The direct kernels accumulate over taps.
                ob.fill(E::zero());
                direct_forward(geo, cout, xb, w, ob);
                add_bias(ob, b, n);
                f.apply(ob);
            });
        return (out.into_vec(), pool::take(0));
    }
    if geo.is_pointwise() {
        // A 1×1, stride-1, unpadded convolution reads its input as the columns.
        out.par_chunks_mut(cout * n)
            .zip(x.par_chunks(inp))
            .zip(finish)
            .for_each(|((ob, xb), f)| {
                gemm(cout, n, k, w, Tr::No, xb, Tr::No, ob, false, 1);
                add_bias(ob, b, n);
                f.apply(ob);
            });
        return (out.into_vec(), pool::take(0));
    }
    // im2col writes every column, the product every output.
    let mut cols = pool::take(if keep { batch * k * n } else { 0 });
    let work = |xb: &[E], ob: &mut [E], cb: &mut [E], f: Finish| {
        geo.im2col(xb, cb);
        gemm(cout, n, k, w, Tr::No, cb, Tr::No, ob, false, 1);
        add_bias(ob, b, n);
        f.apply(ob);
    };
    let samples = x
        .par_chunks(inp)
        .zip(out.par_chunks_mut(cout * n))
        .zip(finish);
    if keep {
        samples
            .zip(cols.par_chunks_mut(k * n))
            .for_each(|(((xb, ob), f), cb)| work(xb, ob, cb, f));
    } else {
        samples.for_each(|((xb, ob), f)| scratch::with(k * n, |cb| work(xb, ob, cb, f)));
    }
    (out.into_vec(), cols)
}

/// At most this many output channels, a convolution skips the column matrix: a GEMM
/// with so few rows is bound by writing and reading the columns (a 1 × 800 × 784
/// product per MNIST sample moved 5 MB for 1.3 MFLOP), while the direct loops read each
/// input row once per tap.
const DIRECT_MAX_COUT: usize = 4;

/// Whether `conv2d` with these sizes runs the direct kernels.
pub fn direct(_geo: &Geometry, cout: usize) -> bool {
    cout <= DIRECT_MAX_COUT
}

/// A stride-1, unpadded convolution (a decoder's last layer, kernel `1 + D − H`) can
/// read each tap as one long run: with output rows laid out at the input's row stride
/// `W`, tap `(c, ki, kj)` adds `w · x[off..off + len]` to `wide[0..len]`, where
/// `len = (Ho − 1)·W + Wo`. The `W − Wo` extra columns per row read the next input row
/// and are dropped. One axpy of ~`Ho·W` floats per tap instead of `Ho` short ones.
fn wide_rows(geo: &Geometry) -> bool {
    geo.stride == [1, 1] && geo.padding == [0, 0]
}

/// Start of tap `row = (c, ki, kj)` in the input, and the run length, for [`wide_rows`].
fn wide_tap(geo: &Geometry, row: usize) -> (usize, usize) {
    let ([kh, kw], [bh, bw], [sh, sw], [dh, dw]) = (geo.kernel, geo.big, geo.small, geo.dilation);
    let (c, ki, kj) = (row / (kh * kw), row / kw % kh, row % kw);
    ((c * bh + ki * dh) * bw + kj * dw, (sh - 1) * bw + sw)
}

fn wide_forward<E: Real>(geo: &Geometry, cout: usize, x: &[E], w: &[E], out: &mut [E]) {
    let (k, n, [sh, sw], bw) = (geo.col_rows(), geo.col_cols(), geo.small, geo.big[1]);
    scratch::with(sh * bw, |wide: &mut [E]| {
        for co in 0..cout {
            wide.iter_mut().for_each(|v| *v = E::zero());
            for row in 0..k {
                let (off, len) = wide_tap(geo, row);
                let wv = w[co * k + row];
                for (o, v) in wide[..len].iter_mut().zip(&x[off..off + len]) {
                    *o += wv * *v;
                }
            }
            for (oh, dst) in out[co * n..(co + 1) * n].chunks_mut(sw).enumerate() {
                dst.copy_from_slice(&wide[oh * bw..oh * bw + sw]);
            }
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn wide_backward<E: Real>(
    geo: &Geometry,
    cout: usize,
    x: &[E],
    w: &[E],
    g: &[E],
    dw: &mut [E],
    dx: &mut [E],
) {
    let (k, n, [sh, sw], bw) = (geo.col_rows(), geo.col_cols(), geo.small, geo.big[1]);
    // The output gradient at the input's row stride, zero in the dropped columns.
    scratch::with_zeroed(sh * bw, |wide: &mut [E]| {
        for co in 0..cout {
            for (oh, src) in g[co * n..(co + 1) * n].chunks(sw).enumerate() {
                wide[oh * bw..oh * bw + sw].copy_from_slice(src);
            }
            for row in 0..k {
                let (off, len) = wide_tap(geo, row);
                let gw = &wide[..len];
                dw[co * k + row] += dot(gw, &x[off..off + len]);
                let wv = w[co * k + row];
                for (d, gv) in dx[off..off + len].iter_mut().zip(gw) {
                    *d += wv * *gv;
                }
            }
        }
    })
}

/// `out[co] += Σ_taps w[co, tap] · shifted x` for one sample (`out` zeroed).
fn direct_forward<E: Real>(geo: &Geometry, cout: usize, x: &[E], w: &[E], out: &mut [E]) {
    if wide_rows(geo) {
        return wide_forward(geo, cout, x, w, out);
    }
    let (k, n, [_, sw], [bh, bw], st) = (
        geo.col_rows(),
        geo.col_cols(),
        geo.small,
        geo.big,
        geo.stride[1],
    );
    geo.for_each_span(|row, c, oh, ih, span, iw0| {
        let src = &x[(c * bh + ih) * bw..(c * bh + ih + 1) * bw];
        for co in 0..cout {
            let wv = w[co * k + row];
            let dst = &mut out[co * n + oh * sw..co * n + (oh + 1) * sw][span.clone()];
            if st == 1 {
                for (o, v) in dst.iter_mut().zip(&src[iw0..]) {
                    *o += wv * *v;
                }
            } else {
                for (j, o) in dst.iter_mut().enumerate() {
                    *o += wv * src[iw0 + j * st];
                }
            }
        }
    });
}

/// One sample's share of the direct backward: `dw += g ⋆ x`, `dx = Σ_co w ⋆ᵀ g`.
fn direct_backward<E: Real>(
    geo: &Geometry,
    cout: usize,
    x: &[E],
    w: &[E],
    g: &[E],
    dw: &mut [E],
    dx: &mut [E],
) {
    if wide_rows(geo) {
        return wide_backward(geo, cout, x, w, g, dw, dx);
    }
    let (k, n, [_, sw], [bh, bw], st) = (
        geo.col_rows(),
        geo.col_cols(),
        geo.small,
        geo.big,
        geo.stride[1],
    );
    geo.for_each_span(|row, c, oh, ih, span, iw0| {
        let at = (c * bh + ih) * bw;
        for co in 0..cout {
            let gr = &g[co * n + oh * sw..co * n + (oh + 1) * sw][span.clone()];
            let wv = w[co * k + row];
            let mut acc = E::zero();
            if st == 1 {
                let xr = &x[at + iw0..at + iw0 + gr.len()];
                acc = dot(gr, xr);
                let dxr = &mut dx[at + iw0..at + iw0 + gr.len()];
                for (gv, d) in gr.iter().zip(dxr) {
                    *d += wv * *gv;
                }
            } else {
                for (j, gv) in gr.iter().enumerate() {
                    acc += *gv * x[at + iw0 + j * st];
                    dx[at + iw0 + j * st] += wv * *gv;
                }
            }
            dw[co * k + row] += acc;
        }
    });
}

/// `Σ a·b` in eight independent lanes, so that the compiler vectorises it (a single
/// running float sum is a dependency chain it may not reorder).
fn dot<E: Real>(a: &[E], b: &[E]) -> E {
    let mut lanes = [E::zero(); 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: E = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| *x * *y)
        .sum();
    for (x, y) in ac.zip(bc) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    lanes.iter().copied().sum::<E>() + tail
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
) -> (Buf<E>, Buf<E>, Buf<E>) {
    let (k, n, inp) = (geo.col_rows(), geo.col_cols(), geo.big_len());
    let db = sum_over_samples(batch, cout, |i, acc| {
        let gb = &g[i * cout * n..(i + 1) * cout * n];
        for (c, row) in gb.chunks(n).enumerate() {
            acc[c] += row.iter().copied().sum::<E>();
        }
    });
    if direct(geo, cout) {
        // Each chunk of samples writes its own dx rows and sums its own dW.
        let mut dx = pool::take(batch * inp);
        let dws: Vec<Buf<E>> = dx
            .par_chunks_mut(8 * inp)
            .enumerate()
            .map(|(c, dxc)| {
                // The direct kernels accumulate into dx.
                dxc.fill(E::zero());
                let mut dw = pool::zeroed(cout * k);
                for (j, dxb) in dxc.chunks_mut(inp).enumerate() {
                    let i = c * 8 + j;
                    let gb = &g[i * cout * n..(i + 1) * cout * n];
                    direct_backward(geo, cout, &x[i * inp..(i + 1) * inp], w, gb, &mut dw, dxb);
                }
                dw
            })
            .collect();
        return (dx, sum_in_order(dws, cout * k), db);
    }
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
    let mut dx = pool::take(batch * inp);
    dx.par_chunks_mut(inp).enumerate().for_each(|(i, dxb)| {
        let gb = &g[i * cout * n..(i + 1) * cout * n];
        if geo.is_pointwise() {
            gemm(k, n, cout, w, Tr::Yes, gb, Tr::No, dxb, false, 1);
        } else {
            // col2im adds into dx.
            dxb.fill(E::zero());
            // Every column is written by the product before col2im reads it.
            scratch::with(k * n, |dcols| {
                gemm(k, n, cout, w, Tr::Yes, gb, Tr::No, dcols, false, 1);
                geo.col2im(dcols, dxb);
            });
        }
    });
    (dx, dw, db)
}
