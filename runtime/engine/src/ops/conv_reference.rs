//! Naive direct-loop convolutions: the reference the im2col kernels are tested against.
//!
//! One loop nest visits every (output channel, input channel, tap, small point) with
//! its big point; conv2d reads big and writes small, the transpose the other way.

use rrae_artifact::Geometry;

/// Visits `(c_small, c_big, tap, small index, big index)` for every valid read.
fn each(g: &Geometry, c_small: usize, mut f: impl FnMut(usize, usize, usize, usize, usize)) {
    let [kh, kw] = g.kernel;
    for cs in 0..c_small {
        for cb in 0..g.channels {
            for ki in 0..kh {
                for kj in 0..kw {
                    for oh in 0..g.small[0] {
                        for ow in 0..g.small[1] {
                            let ih = (oh * g.stride[0] + ki * g.dilation[0]) as isize
                                - g.padding[0] as isize;
                            let iw = (ow * g.stride[1] + kj * g.dilation[1]) as isize
                                - g.padding[1] as isize;
                            if ih < 0
                                || iw < 0
                                || ih >= g.big[0] as isize
                                || iw >= g.big[1] as isize
                            {
                                continue;
                            }
                            let small = (cs * g.small[0] + oh) * g.small[1] + ow;
                            let big = (cb * g.big[0] + ih as usize) * g.big[1] + iw as usize;
                            f(cs, cb, ki * kw + kj, small, big);
                        }
                    }
                }
            }
        }
    }
}

/// conv2d of one sample: returns `(out, dx, dw, db)` for output gradient `g`.
pub fn conv2d(
    geo: &Geometry,
    cout: usize,
    x: &[f64],
    w: &[f64],
    b: &[f64],
    g: &[f64],
) -> [Vec<f64>; 4] {
    let n = geo.col_cols();
    let taps = geo.kernel[0] * geo.kernel[1];
    let mut out = vec![0.0; cout * n];
    let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; cout]);
    for (i, o) in out.iter_mut().enumerate() {
        *o = b[i / n];
        db[i / n] += g[i];
    }
    each(geo, cout, |co, ci, t, s, bg| {
        let wi = (co * geo.channels + ci) * taps + t;
        out[s] += w[wi] * x[bg];
        dx[bg] += w[wi] * g[s];
        dw[wi] += x[bg] * g[s];
    });
    [out, dx, dw, db]
}

/// conv_transpose2d of one sample (`geo.big` is the output grid).
pub fn conv_transpose2d(
    geo: &Geometry,
    cin: usize,
    x: &[f64],
    w: &[f64],
    b: &[f64],
    g: &[f64],
) -> [Vec<f64>; 4] {
    let plane = geo.big[0] * geo.big[1];
    let taps = geo.kernel[0] * geo.kernel[1];
    let mut out = vec![0.0; geo.big_len()];
    let (mut dx, mut dw, mut db) = (
        vec![0.0; x.len()],
        vec![0.0; w.len()],
        vec![0.0; geo.channels],
    );
    for (i, o) in out.iter_mut().enumerate() {
        *o = b[i / plane];
        db[i / plane] += g[i];
    }
    each(geo, cin, |ci, co, t, s, bg| {
        let wi = (ci * geo.channels + co) * taps + t;
        out[bg] += w[wi] * x[s];
        dx[s] += w[wi] * g[bg];
        dw[wi] += x[s] * g[bg];
    });
    [out, dx, dw, db]
}

/// A weighted op's kernel pair on a batch against the per-sample naive loops, with the
/// fused ReLU applied to the reference when `relu` (its mask cuts the gradient where
/// the output was not positive). `kernel(g)` runs the device's forward and backward and
/// returns host copies of `[out, dx, dw, db]`; `reference(x_s, g_s)` is one sample's
/// `[out, dx, dw, db]`.
#[allow(clippy::too_many_arguments)]
pub fn check_kernel(
    what: &str,
    x: &[f64],
    g: &[f64],
    (n_in, n_out): (usize, usize),
    (w_len, b_len): (usize, usize),
    relu: bool,
    kernel: impl Fn(&[f64]) -> [Vec<f64>; 4],
    reference: impl Fn(&[f64], &[f64]) -> [Vec<f64>; 4],
) {
    use crate::device::matrix::assert_close;
    let batch = x.len() / n_in;
    let (mut out, mut dx) = (vec![], vec![]);
    let (mut dw, mut db) = (vec![0.0; w_len], vec![0.0; b_len]);
    for s in 0..batch {
        let xs = &x[s * n_in..(s + 1) * n_in];
        let gs = &g[s * n_out..(s + 1) * n_out];
        let [o, ..] = reference(xs, gs);
        let gm: Vec<f64> = gs
            .iter()
            .zip(&o)
            .map(|(g, o)| if relu && *o <= 0.0 { 0.0 } else { *g })
            .collect();
        let [_, dxs, dws, dbs] = reference(xs, &gm);
        out.extend(o.iter().map(|v| if relu { v.max(0.0) } else { *v }));
        dx.extend(dxs);
        dw.iter_mut().zip(dws).for_each(|(a, b)| *a += b);
        db.iter_mut().zip(dbs).for_each(|(a, b)| *a += b);
    }
    let got = kernel(g);
    for (name, (got, want)) in ["out", "dx", "dw", "db"]
        .iter()
        .zip(got.iter().zip([out, dx, dw, db]))
    {
        assert_close(got, &want, 1e-12, &format!("{what} {name}"));
    }
}
