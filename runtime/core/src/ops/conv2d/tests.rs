use super::conv2d;
use crate::ops::conv_reference;
use crate::ops::gradcheck::{close, max_error, noise, Case};
use crate::ops::im2col::Geometry;
use dfdx::prelude::*;

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
fn forward_and_backward_match_the_naive_loops() {
    let dev = Cpu::default();
    for (geo, cout) in geometries() {
        let c = case(&geo, cout, 3);
        let n_out = cout * geo.col_cols();
        let g = noise(3 * n_out, 4);
        let x: Mat2 = dev.tensor_from_vec(c.x.clone(), (3, geo.big_len()));
        let w: Mat2 = dev.tensor_from_vec(c.mats[0].0.clone(), (cout, geo.col_rows()));
        let b = dev.tensor_from_vec(c.vecs[0].clone(), (cout,));
        let out = conv2d(x.leaky_trace(), &w, Some(&b), geo);
        let got = out.as_vec();
        let gt: Mat2 = dev.tensor_from_vec(g.clone(), (3, n_out));
        let grads = (out * gt).sum().backward();
        let (dx, dw, db) = (
            grads.get(&x).as_vec(),
            grads.get(&w).as_vec(),
            grads.get(&b).as_vec(),
        );
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
        close(&dw, &dw_ref);
        close(&db, &db_ref);
    }
}

#[test]
fn backward_matches_finite_differences() {
    for (geo, cout) in geometries() {
        let err = max_error(&case(&geo, cout, 2), |x, p| {
            conv2d(x, &p.mats[0], Some(&p.vecs[0]), geo)
        });
        assert!(err < 1e-7, "{geo:?}: {err}");
    }
}

type Mat2 = crate::tensor::Mat<f64>;
