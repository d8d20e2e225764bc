use super::{learned_projection, normalised};
use crate::linalg::from_rows;
use crate::ops::gradcheck::{constant, max_error, noise, values, Case};

#[test]
fn projects_on_the_normalised_columns() {
    // B = [[2], [0]] → Û = e1: the first coordinate survives.
    let out = values(|t| {
        let y = constant(t, &[3.0, 4.0, -1.0, 2.0], 2, 2);
        let b = constant(t, &[2.0, 0.0], 2, 1);
        learned_projection(t, y, b)
    });
    assert_eq!(out, vec![3.0, 0.0, -1.0, 0.0]);
    let u = normalised(&from_rows(&noise(12, 2), 4, 3));
    for c in u.column_iter() {
        assert!((c.norm() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn backward_matches_finite_differences_for_y_and_b() {
    for (n, l, k) in [(3, 4, 2), (5, 3, 1), (2, 5, 3)] {
        let case = Case {
            x: noise(n * l, 11 + k as u64),
            rows: n,
            cols: l,
            mats: vec![(noise(l * k, 21 + k as u64), l, k)],
            vecs: vec![],
        };
        let err = max_error(&case, |t, y, p| learned_projection(t, y, p.mats[0]));
        assert!(err < 1e-7, "{n}×{l}, k = {k}: {err}");
    }
}

/// The learned projection's kernels on a device: `y Û Ûᵀ` against nalgebra, both
/// gradients against central differences of the kernel's own forward.
fn kernels_project_and_differentiate<D: super::LearnedBasisKernel<f64>>(dev: &D) {
    use crate::device::matrix::{assert_close, dot, down, numeric_grad, up};
    let (n, l, k) = (4, 5, 2);
    let (y, b, r) = (noise(n * l, 51), noise(l * k, 52), noise(n * l, 53));
    let u = normalised(&from_rows(&b, l, k));
    let want = crate::linalg::to_rows(&(from_rows(&y, n, l) * &u * u.transpose()));
    let (out, saved) = dev.learned_projection_forward(&up(dev, &y), &up(dev, &b), n, l, k);
    assert_close(&down(dev, &out), &want, 1e-12, "forward");
    let (dy, db) = dev.learned_projection_backward(&saved, &up(dev, &r));
    let fy = |y: &[f64]| {
        dot(
            &down(
                dev,
                &dev.learned_projection_forward(&up(dev, y), &up(dev, &b), n, l, k)
                    .0,
            ),
            &r,
        )
    };
    let fb = |b: &[f64]| {
        dot(
            &down(
                dev,
                &dev.learned_projection_forward(&up(dev, &y), &up(dev, b), n, l, k)
                    .0,
            ),
            &r,
        )
    };
    assert_close(&down(dev, &dy), &numeric_grad(fy, &y, 1e-6), 1e-7, "∂/∂y");
    assert_close(&down(dev, &db), &numeric_grad(fb, &b, 1e-6), 1e-7, "∂/∂B");
}
crate::device::matrix::test_device!(kernels_project_and_differentiate);
