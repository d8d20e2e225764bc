use super::conv_transpose2d;
use crate::ops::activation::{activate, Activation};
use crate::ops::conv_reference;
use crate::ops::gradcheck::{close, forward_backward, max_error, noise, Case};
use crate::ops::weighted::Epilogue;
use rrae_artifact::Geometry;

/// (geometry with `big` = output grid, input channels).
fn geometries() -> Vec<(Geometry, usize)> {
    let g = Geometry::new;
    vec![
        // The paper's decoder layer: 3×3, stride 2, padding 1, output_padding 1: 4 → 8.
        (g(2, [8, 8], [4, 4], [3, 3], [2, 2], [1, 1], [1, 1]), 3),
        // output_padding 1 on a rectangular grid: (4−1)·2 − 2 + 2 + 1 + 1 = 8, 6.
        (g(3, [8, 6], [4, 3], [3, 3], [2, 2], [1, 1], [1, 1]), 2),
        // Dilation 2, no padding, stride 1: 3 + 2·2 = 7.
        (g(2, [7, 5], [3, 3], [3, 2], [1, 1], [0, 0], [2, 2]), 2),
        // 1-D: 4 → (4−1)·2 + 3 = 9.
        (g(2, [1, 9], [1, 4], [1, 3], [1, 2], [0, 0], [1, 1]), 3),
        // One pixel wide: 4 × 1 → 8 × 1.
        (g(3, [8, 1], [4, 1], [3, 1], [2, 1], [1, 0], [1, 1]), 5),
        // The Appendix C decoder's first layers, narrowed: 4×4 → 8×8 and 8×8 → 16×16
        // with more channels than taps.
        (g(12, [8, 8], [4, 4], [3, 3], [2, 2], [1, 1], [1, 1]), 20),
        (g(6, [16, 16], [8, 8], [3, 3], [2, 2], [1, 1], [1, 1]), 12),
    ]
}

fn case(geo: &Geometry, cin: usize, batch: usize) -> Case {
    let n_in = cin * geo.col_cols();
    Case {
        x: noise(batch * n_in, 5),
        rows: batch,
        cols: n_in,
        mats: vec![(noise(cin * geo.col_rows(), 6), cin, geo.col_rows())],
        vecs: vec![noise(geo.channels, 7)],
    }
}

#[test]
fn forward_and_backward_match_the_naive_loops() {
    // Each geometry twice: the second step runs on the buffers the first gave back to
    // the pool (NaN-poisoned in debug builds), as every training step after the first.
    for (geo, cin) in geometries().into_iter().flat_map(|g| [g, g]) {
        let c = case(&geo, cin, 3);
        let (n_in, n_out) = (cin * geo.col_cols(), geo.big_len());
        let g = noise(3 * n_out, 8);
        let (got, grads) = forward_backward(&c, Some(g.clone()), |t, x, p| {
            conv_transpose2d(t, x, p.mats[0], Some(p.vecs[0]), geo, Epilogue::None)
        });
        let (dx, dw, db) = (&grads[0], &grads[1], &grads[2]);
        let (mut dw_ref, mut db_ref) = (vec![0.0; dw.len()], vec![0.0; geo.channels]);
        for s in 0..3 {
            let xb = &c.x[s * n_in..(s + 1) * n_in];
            let gb = &g[s * n_out..(s + 1) * n_out];
            let [o, dxr, dwr, dbr] =
                conv_reference::conv_transpose2d(&geo, cin, xb, &c.mats[0].0, &c.vecs[0], gb);
            close(&got[s * n_out..(s + 1) * n_out], &o);
            close(&dx[s * n_in..(s + 1) * n_in], &dxr);
            dw_ref.iter_mut().zip(dwr).for_each(|(a, b)| *a += b);
            db_ref.iter_mut().zip(dbr).for_each(|(a, b)| *a += b);
        }
        close(dw, &dw_ref);
        close(db, &db_ref);
    }
}

#[test]
fn backward_matches_finite_differences() {
    for (geo, cin) in geometries() {
        let err = max_error(&case(&geo, cin, 2), |t, x, p| {
            conv_transpose2d(t, x, p.mats[0], Some(p.vecs[0]), geo, Epilogue::None)
        });
        assert!(err < 1e-7, "{geo:?}: {err}");
    }
}

/// The fused ReLU epilogue is exactly the op followed by a separate `relu`, forward and
/// backward, and its backward matches finite differences.
#[test]
fn fused_relu_matches_the_separate_relu() {
    for (geo, c) in geometries() {
        let case = case(&geo, c, 2);
        let run = |fused: bool| {
            forward_backward(&case, None, |t, x, p| {
                let (w, b) = (p.mats[0], Some(p.vecs[0]));
                if fused {
                    conv_transpose2d(t, x, w, b, geo, Epilogue::Relu)
                } else {
                    let y = conv_transpose2d(t, x, w, b, geo, Epilogue::None);
                    activate(t, y, Activation::Relu)
                }
            })
        };
        let (fused, separate) = (run(true), run(false));
        assert!(fused.0.contains(&0.0) && fused.0.iter().any(|&v| v > 0.0));
        assert_eq!(fused, separate, "{geo:?}");
        let err = max_error(&case, |t, x, p| {
            conv_transpose2d(t, x, p.mats[0], Some(p.vecs[0]), geo, Epilogue::Relu)
        });
        assert!(err < 1e-7, "{geo:?}: {err}");
    }
}

/// The kernel pair on a device against the naive loops, on every geometry, with and
/// without the fused ReLU (whose mask the backward must apply).
fn kernels_match_the_naive_loops<D: super::ConvTranspose2dKernel<f64>>(dev: &D) {
    use crate::device::matrix::{down, up};
    for (geo, cin) in geometries() {
        for epilogue in [Epilogue::None, Epilogue::Relu] {
            let c = case(&geo, cin, 3);
            let n_in = cin * geo.col_cols();
            let (w, b) = (&c.mats[0].0, &c.vecs[0]);
            let (xd, wd, bd) = (up(dev, &c.x), up(dev, w), up(dev, b));
            conv_reference::check_kernel(
                &format!("conv_transpose2d {geo:?} ×{cin} {epilogue:?}"),
                &c.x,
                &noise(3 * geo.big_len(), 8),
                (n_in, geo.big_len()),
                (w.len(), geo.channels),
                epilogue == Epilogue::Relu,
                |g| {
                    let (out, saved) = dev.conv_transpose2d_forward(
                        &geo,
                        cin,
                        &xd,
                        &wd,
                        Some(&bd),
                        epilogue,
                        true,
                    );
                    let (dx, dw, db) =
                        dev.conv_transpose2d_backward(&geo, cin, &saved, &xd, &wd, up(dev, g));
                    [&out, &dx, &dw, &db].map(|v| down(dev, v))
                },
                |xs, gs| conv_reference::conv_transpose2d(&geo, cin, xs, w, b, gs),
            );
        }
    }
}
crate::device::matrix::test_device!(kernels_match_the_naive_loops);
