use super::nuclear;
use crate::ops::gradcheck::{constant, max_error, noise, scalar, Case};

#[test]
fn the_nuclear_norm_is_the_sum_of_singular_values() {
    // diag(3, −2) rotated: singular values 3 and 2.
    let (c, s) = (0.6f64, 0.8f64);
    let w = [3.0 * c, -3.0 * s, -2.0 * s, -2.0 * c];
    let got = scalar(|t| {
        let w = constant(t, &w, 2, 2);
        nuclear(t, w, 0.5)
    });
    assert!((got - 0.5 * 5.0).abs() < 1e-12, "{got}");
}

#[test]
fn nuclear_backward_matches_finite_differences() {
    for (rows, cols) in [(4, 4), (5, 3), (3, 6)] {
        let case = Case {
            x: noise(rows * cols, 31),
            rows,
            cols,
            mats: vec![],
            vecs: vec![],
        };
        let err = max_error(&case, |t, w, _| nuclear(t, w, 0.3));
        assert!(err < 1e-6, "{rows} × {cols}: {err}");
    }
}
