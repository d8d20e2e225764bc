use super::{project, projector};
use crate::ops::gradcheck::{constant, max_error, noise, values, Case};

fn basis() -> nalgebra::DMatrix<f64> {
    let a = nalgebra::DMatrix::from_vec(5, 2, noise(10, 3));
    a.qr().q()
}

#[test]
fn projection_is_idempotent_and_keeps_the_basis() {
    let u = basis();
    let p = projector::<f64>(&u);
    let x = noise(15, 4);
    let ut = crate::linalg::to_rows(&u.transpose());
    let (once, twice, back) = (
        values(|t| {
            let (x, p) = (constant(t, &x, 3, 5), constant(t, &p, 5, 5));
            project(t, x, p).unwrap_or_else(|e| panic!("{e}")) // ok: test
        }),
        values(|t| {
            let (x, p) = (constant(t, &x, 3, 5), constant(t, &p, 5, 5));
            let once = project(t, x, p).unwrap_or_else(|e| panic!("{e}")); // ok: test
            project(t, once, p).unwrap_or_else(|e| panic!("{e}")) // ok: test
        }),
        values(|t| {
            let (x, p) = (constant(t, &ut, 2, 5), constant(t, &p, 5, 5));
            project(t, x, p).unwrap_or_else(|e| panic!("{e}")) // ok: test
        }),
    );
    for (a, b) in once.iter().zip(&twice) {
        assert!((a - b).abs() < 1e-12);
    }
    // The basis vectors themselves pass through unchanged.
    for (a, b) in back.iter().zip(&ut) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn backward_matches_finite_differences() {
    let p = projector::<f64>(&basis());
    let case = Case {
        x: noise(15, 5),
        rows: 3,
        cols: 5,
        mats: vec![(p, 5, 5)],
        vecs: vec![],
    };
    let err = max_error(&case, |t, x, p| {
        project(t, x, p.mats[0]).unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    assert!(err < 1e-8, "{err}");
}
