use super::conv2d;
use crate::ops::activation::{activate, Activation};
use crate::ops::conv_reference;
use crate::ops::gradcheck::{close, forward_backward, max_error, noise, Case};
use crate::ops::weighted::Epilogue;
use rrae_artifact::Geometry;

fn geometries() -> Vec<(Geometry, usize)> {
    let g = Geometry::new;
    vec![
        // The paper's encoder layer: 3×3, stride 2, padding 1.
        (g(2, [8, 8], [4, 4], [3, 3], [2, 2], [1, 1], [1, 1]), 3),
        // Rectangular kernel, mixed strides, dilation.
        (g(2, [7, 6], [4, 4], [3, 2], [2, 1], [1, 0], [1, 2]), 3),
        // The decoder's final kernel-1 convolution.
        (g(4, [5, 5], [5, 5], [1, 1], [1, 1], [0, 0], [1, 1]), 1),
        // conv1d as height 1.
        (g(3, [1, 9], [1, 4], [1, 3], [1, 2], [0, 1], [1, 1]), 2),
        // The MNIST decoder's last layer: 5×5, stride 1, one output channel; and a
        // dilated stride-1 one (both run the direct kernel's long-run form).
        (g(3, [8, 8], [4, 4], [5, 5], [1, 1], [0, 0], [1, 1]), 1),
        (g(2, [9, 7], [5, 3], [3, 3], [1, 1], [0, 0], [2, 2]), 2),
        // Up to 4 output channels run the direct kernels (the cases above); these
        // run im2col + GEMM, and the pointwise GEMM on the input itself.
        (g(2, [8, 8], [4, 4], [3, 3], [2, 2], [1, 1], [1, 1]), 6),
        (g(2, [7, 6], [4, 4], [3, 2], [2, 1], [1, 0], [1, 2]), 5),
        (g(4, [5, 5], [5, 5], [1, 1], [1, 1], [0, 0], [1, 1]), 5),
        // One pixel wide: 9 × 1 → 5 × 1; and an encoder's last layer, narrowed:
        // 8×8 → 4×4 with more channels than taps.
        (g(3, [9, 1], [5, 1], [3, 1], [2, 1], [1, 0], [1, 1]), 6),
        (g(12, [8, 8], [4, 4], [3, 3], [2, 2], [1, 1], [1, 1]), 20),
    ]
}

fn case(geo: &Geometry, cout: usize, batch: usize) -> Case {
    Case {
        x: noise(batch * geo.big_len(), 1),
        rows: batch,
        cols: geo.big_len(),
        mats: vec![(noise(cout * geo.col_rows(), 2), cout, geo.col_rows())],
        vecs: vec![noise(cout, 3)],
    }
}

#[test]
fn both_kernels_are_covered() {
    let direct = geometries()
        .iter()
        .filter(|(g, c)| super::cpu::direct(g, *c))
        .count();
    assert!(direct >= 3 && geometries().len() - direct >= 3);
}

#[test]
fn forward_and_backward_match_the_naive_loops() {
    // Each geometry twice: the second step runs on the buffers the first gave back to
    // the pool (NaN-poisoned in debug builds), as every training step after the first.
    for (geo, cout) in geometries().into_iter().flat_map(|g| [g, g]) {
        let c = case(&geo, cout, 3);
        let n_out = cout * geo.col_cols();
        let g = noise(3 * n_out, 4);
        let (got, grads) = forward_backward(&c, Some(g.clone()), |t, x, p| {
            conv2d(t, x, p.mats[0], Some(p.vecs[0]), geo, Epilogue::None)
        });
        let (dx, dw, db) = (&grads[0], &grads[1], &grads[2]);
        let (mut dw_ref, mut db_ref) = (vec![0.0; dw.len()], vec![0.0; cout]);
        for s in 0..3 {
            let xb = &c.x[s * geo.big_len()..(s + 1) * geo.big_len()];
            let gb = &g[s * n_out..(s + 1) * n_out];
            let [o, dxr, dwr, dbr] =
                conv_reference::conv2d(&geo, cout, xb, &c.mats[0].0, &c.vecs[0], gb);
            close(&got[s * n_out..(s + 1) * n_out], &o);
            close(&dx[s * geo.big_len()..(s + 1) * geo.big_len()], &dxr);
            dw_ref.iter_mut().zip(dwr).for_each(|(a, b)| *a += b);
            db_ref.iter_mut().zip(dbr).for_each(|(a, b)| *a += b);
        }
        close(dw, &dw_ref);
        close(db, &db_ref);
    }
}

#[test]
fn backward_matches_finite_differences() {
    for (geo, cout) in geometries() {
        let err = max_error(&case(&geo, cout, 2), |t, x, p| {
            conv2d(t, x, p.mats[0], Some(p.vecs[0]), geo, Epilogue::None)
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
                    conv2d(t, x, w, b, geo, Epilogue::Relu)
                } else {
                    let y = conv2d(t, x, w, b, geo, Epilogue::None);
                    activate(t, y, Activation::Relu)
                }
            })
        };
        let (fused, separate) = (run(true), run(false));
        assert!(fused.0.contains(&0.0) && fused.0.iter().any(|&v| v > 0.0));
        assert_eq!(fused, separate, "{geo:?}");
        let err = max_error(&case, |t, x, p| {
            conv2d(t, x, p.mats[0], Some(p.vecs[0]), geo, Epilogue::Relu)
        });
        assert!(err < 1e-7, "{geo:?}: {err}");
    }
}

/// The kernel pair on a device against the naive loops, on every geometry, with and
/// without the fused ReLU (whose mask the backward must apply); the forward without a
/// tape gives the same output.
fn kernels_match_the_naive_loops<D: super::Conv2dKernel<f64>>(dev: &D) {
    use crate::device::matrix::{assert_close, down, up};
    for (geo, cout) in geometries() {
        for epilogue in [Epilogue::None, Epilogue::Relu] {
            let c = case(&geo, cout, 3);
            let n_out = cout * geo.col_cols();
            let (w, b) = (&c.mats[0].0, &c.vecs[0]);
            let (xd, wd, bd) = (up(dev, &c.x), up(dev, w), up(dev, b));
            let what = format!("conv2d {geo:?} ×{cout} {epilogue:?}");
            conv_reference::check_kernel(
                &what,
                &c.x,
                &noise(3 * n_out, 4),
                (geo.big_len(), n_out),
                (w.len(), cout),
                epilogue == Epilogue::Relu,
                |g| {
                    let (out, saved) =
                        dev.conv2d_forward(&geo, cout, &xd, &wd, Some(&bd), epilogue, true);
                    let (dx, dw, db) =
                        dev.conv2d_backward(&geo, cout, &saved, &xd, &wd, up(dev, g));
                    [&out, &dx, &dw, &db].map(|v| down(dev, v))
                },
                |xs, gs| conv_reference::conv2d(&geo, cout, xs, w, b, gs),
            );
            let (with, _) = dev.conv2d_forward(&geo, cout, &xd, &wd, Some(&bd), epilogue, true);
            let (without, _) = dev.conv2d_forward(&geo, cout, &xd, &wd, Some(&bd), epilogue, false);
            assert_close(
                &down(dev, &without),
                &down(dev, &with),
                0.0,
                &format!("{what} no tape"),
            );
        }
    }
}
crate::device::matrix::test_device!(kernels_match_the_naive_loops);
