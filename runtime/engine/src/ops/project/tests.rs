use super::{project, projector};
use crate::ops::gradcheck::{max_error, noise, Case};
use dfdx::prelude::*;

fn basis() -> nalgebra::DMatrix<f64> {
    let a = nalgebra::DMatrix::from_vec(5, 2, noise(10, 3));
    a.qr().q()
}

#[test]
fn projection_is_idempotent_and_keeps_the_basis() {
    let dev = Cpu::default();
    let u = basis();
    let p = projector::<f64>(&dev, &u);
    let x: crate::tensor::Mat<f64> = dev.tensor_from_vec(noise(15, 4), (3, 5));
    let once = project(x, &p);
    let twice = project(once.clone(), &p);
    for (a, b) in once.as_vec().iter().zip(twice.as_vec()) {
        assert!((a - b).abs() < 1e-12);
    }
    // The basis vectors themselves pass through unchanged.
    let ut: crate::tensor::Mat<f64> =
        dev.tensor_from_vec(crate::linalg::to_rows(&u.transpose()), (2, 5));
    let back = project(ut.clone(), &p);
    for (a, b) in back.as_vec().iter().zip(ut.as_vec()) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn backward_matches_finite_differences() {
    let dev = Cpu::default();
    let p = projector::<f64>(&dev, &basis());
    let case = Case {
        x: noise(15, 5),
        rows: 3,
        cols: 5,
        mats: vec![(p.as_vec(), 5, 5)],
        vecs: vec![],
    };
    let err = max_error(&case, |x, p| project(x, &p.mats[0]));
    assert!(err < 1e-8, "{err}");
}
