use super::linear;
use crate::ops::gradcheck::{max_error, noise, Case};
use dfdx::prelude::*;

#[test]
fn forward_is_x_w_plus_b() {
    let dev = Cpu::default();
    let x = dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0], (2, 2));
    let w = dev.tensor_from_vec(vec![1.0, 0.0, -1.0, 0.5, 1.0, 2.0], (2, 3));
    let b = dev.tensor_from_vec(vec![0.1, 0.2, 0.3], (3,));
    let y: Vec<f64> = linear(x, &w, Some(&b)).as_vec();
    assert_eq!(y, vec![2.1, 2.2, 3.3, 5.1, 4.2, 5.3]);
}

#[test]
fn backward_matches_finite_differences() {
    let case = Case {
        x: noise(3 * 4, 1),
        rows: 3,
        cols: 4,
        mats: vec![(noise(4 * 5, 2), 4, 5)],
        vecs: vec![noise(5, 3)],
    };
    let err = max_error(&case, |x, p| linear(x, &p.mats[0], Some(&p.vecs[0])));
    assert!(err < 1e-8, "{err}");
}
