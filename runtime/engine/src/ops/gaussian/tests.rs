use super::{kl, reparameterise};
use crate::ops::gradcheck::{constant, max_error, noise, scalar, values, Case};

#[test]
fn the_sample_is_the_mean_plus_eps_times_the_standard_deviation() {
    let got = values(|t| {
        let m = constant(t, &[1.0, -2.0], 1, 2);
        let v = constant(t, &[0.0, 2.0f64.ln() * 2.0], 1, 2);
        let e = constant(t, &[0.5, -1.0], 1, 2);
        reparameterise(t, m, v, e).unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    // σ = 1 and 2.
    assert!(
        (got[0] - 1.5).abs() < 1e-12 && (got[1] + 4.0).abs() < 1e-12,
        "{got:?}"
    );
}

#[test]
fn kl_vanishes_at_the_prior_and_matches_the_closed_form() {
    let zero = scalar(|t| {
        let m = constant(t, &[0.0; 6], 2, 3);
        let v = constant(t, &[0.0; 6], 2, 3);
        kl(t, m, v, usize::MAX, 1.0).unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    assert_eq!(zero, 0.0);
    // KL(N(1, e) ‖ N(0, 1)) = ½(e + 1 − 1 − 1) per entry, times β = 0.5, two entries.
    let got = scalar(|t| {
        let m = constant(t, &[1.0, 1.0], 1, 2);
        let v = constant(t, &[1.0, 1.0], 1, 2);
        kl(t, m, v, usize::MAX, 0.5).unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    let want = 0.5 * 2.0 * 0.5 * (1.0f64.exp() + 1.0 - 1.0 - 1.0);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

/// μ is the case's x, log σ² its one matrix; ε is fixed.
fn case() -> Case {
    Case {
        x: noise(12, 7),
        rows: 3,
        cols: 4,
        mats: vec![(noise(12, 9), 3, 4)],
        vecs: vec![],
    }
}

#[test]
fn reparameterise_backward_matches_finite_differences() {
    let eps = noise(12, 8);
    let err = max_error(&case(), |t, m, p| {
        let e = constant(t, &eps, 3, 4);
        reparameterise(t, m, p.mats[0], e).unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    assert!(err < 1e-7, "{err}");
}

#[test]
fn kl_backward_matches_finite_differences() {
    let err = max_error(&case(), |t, m, p| {
        kl(t, m, p.mats[0], usize::MAX, 0.3).unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    assert!(err < 1e-7, "{err}");
    // Over the first 3 of 4 columns only: the fourth gets no gradient.
    let err = max_error(&case(), |t, m, p| {
        kl(t, m, p.mats[0], 3, 0.3).unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    assert!(err < 1e-7, "{err}");
}

#[test]
fn kl_counts_only_the_used_columns() {
    let full = scalar(|t| {
        let m = constant(t, &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0], 2, 3);
        let v = constant(t, &[0.0; 6], 2, 3);
        kl(t, m, v, 2, 1.0).unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    // ½ Σ μ² over columns 0 and 1 of both rows.
    assert!((full - 0.5 * 2.0 * (1.0 + 4.0)).abs() < 1e-12, "{full}");
}
