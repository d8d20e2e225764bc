use super::{project_rank_k, svd_truncate};
use crate::ops::gradcheck::{forward_backward, max_error_h, noise, Case};

/// `batch × L` with prescribed singular values (rows are samples).
fn with_singular_values(batch: usize, l: usize, s: &[f64], seed: u64) -> Vec<f64> {
    let q = |n: usize, seed| {
        let a = nalgebra::DMatrix::from_vec(n, n, noise(n * n, seed));
        a.qr().q()
    };
    let (u, v) = (q(batch, seed), q(l, seed + 1));
    let mut m = nalgebra::DMatrix::<f64>::zeros(batch, l);
    for (i, &si) in s.iter().enumerate() {
        m += si * u.column(i) * v.column(i).transpose();
    }
    crate::linalg::to_rows(&m)
}

fn check(x: Vec<f64>, batch: usize, l: usize, k: usize) -> f64 {
    let case = Case {
        x,
        rows: batch,
        cols: l,
        mats: vec![],
        vecs: vec![],
    };
    // h = 1e-4: nalgebra's SVD carries ~1e-11 noise near rank deficiency, which a
    // smaller step would amplify past the truncation error (measured: 4e-9 at 1e-4,
    // 1.5e-7 at 1e-5, 1e-5 at 1e-6 on the rank-2 case).
    max_error_h(&case, 1e-4, |t, x, _| svd_truncate(t, x, k).0)
}

#[test]
fn backward_matches_finite_differences_on_tall_and_wide() {
    // Tall in the paper's sense: L > batch (Y is L × batch); wide: L < batch.
    for (batch, l, k) in [(4, 7, 2), (7, 4, 2), (5, 5, 3), (6, 3, 1)] {
        let err = check(noise(batch * l, 11), batch, l, k);
        assert!(err < 1e-7, "batch {batch}, L {l}, k {k}: {err}");
    }
}

#[test]
fn backward_is_finite_and_correct_with_repeated_values_inside_a_block() {
    // s = [3, 3, 1, 1, 1]: repeated inside the kept block and inside the discarded one.
    let x = with_singular_values(6, 5, &[3.0, 3.0, 1.0, 1.0, 1.0], 21);
    assert!(check(x, 6, 5, 2) < 1e-6);
}

#[test]
fn rank_deficient_latents_train_without_nan() {
    // Rank 2 with k = 3: the third kept value is zero, so it counts as discarded.
    let x = with_singular_values(5, 6, &[2.0, 1.0], 31);
    let t = project_rank_k(&x, 5, 6, 3);
    assert_eq!(t.kept, 2);
    // k above the rank is not differentiable (a perturbation's own top direction
    // would be kept); the stable op differentiates the rank-2 projection instead.
    let g = noise(30, 61);
    let three = t.backward(&g);
    let two = project_rank_k(&x, 5, 6, 2).backward(&g);
    assert!(three
        .iter()
        .zip(&two)
        .all(|(a, b)| (a - b).abs() < 1e-12 && a.is_finite()));
    // Rank 2 with k = 2: the projection is the identity on this batch.
    let t = project_rank_k(&x, 5, 6, 2);
    let err: f64 = t
        .output
        .iter()
        .zip(&x)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-12);
    let e = check(x, 5, 6, 2);
    assert!(e < 1e-7, "{e}");
}

#[test]
fn a_tie_across_the_cut_and_an_all_zero_latent_give_finite_gradients() {
    // s = [2, 1, 1]: with k = 2 the cut falls inside a tie (not differentiable; the
    // term is dropped, nothing blows up).
    for (x, b, l) in [
        (with_singular_values(4, 3, &[2.0, 1.0, 1.0], 41), 4, 3),
        (vec![0.0; 12], 4, 3),
    ] {
        let kept = std::cell::Cell::new(usize::MAX);
        let case = Case {
            x,
            rows: b,
            cols: l,
            mats: vec![],
            vecs: vec![],
        };
        let (out, grads) = forward_backward(&case, None, |t, x, _| {
            let (out, trunc) = svd_truncate(t, x, 2);
            kept.set(trunc.kept);
            out
        });
        assert!(out.iter().all(|v| v.is_finite()));
        assert!(grads[0].iter().all(|v| v.is_finite()));
        assert!(kept.get() <= 2);
    }
}

#[test]
fn output_has_rank_k_and_is_the_best_rank_k_approximation() {
    let (batch, l, k) = (8, 6, 2);
    let x = noise(batch * l, 51);
    let t = project_rank_k(&x, batch, l, k);
    let out = nalgebra::DMatrix::from_row_slice(batch, l, &t.output);
    let s = crate::linalg::svd(&out).s;
    assert!(s[k] < 1e-12 * s[0]);
    // Eckart–Young: the error is the norm of the discarded singular values.
    let resid = (nalgebra::DMatrix::from_row_slice(batch, l, &x) - out).norm();
    let tail: f64 = t.s[k..].iter().map(|s| s * s).sum::<f64>().sqrt();
    assert!((resid - tail).abs() < 1e-12);
}

/// The kernel pair on a device, on tall, wide, rank-deficient and repeated-value
/// inputs: the output is the best rank-k approximation (its residual is orthogonal to
/// it and carries exactly the discarded singular values' energy, from an independent
/// SVD), and the backward matches central differences of the kernel's own forward.
fn kernels_project_and_differentiate<D: super::SvdTruncateKernel<f64>>(dev: &D) {
    use crate::device::matrix::{assert_close, dot, down, numeric_grad, up};
    // The step: 1e-4 near rank deficiency (nalgebra's SVD noise, as in `check`
    // above), 1e-5 elsewhere (the truncation error of 1e-4 is ~2e-7 on the wide case).
    let repeated = with_singular_values(6, 5, &[2.0, 2.0, 2.0, 0.5], 14);
    // (name, batch, L, k, x, finite-difference step)
    type Case = (&'static str, usize, usize, usize, Vec<f64>, f64);
    let cases: Vec<Case> = vec![
        ("tall", 4, 7, 2, noise(28, 11), 1e-5),
        ("wide", 7, 4, 2, noise(28, 12), 1e-5),
        (
            "rank-deficient",
            6,
            5,
            2,
            with_singular_values(6, 5, &[3.0, 1.0], 13),
            1e-4,
        ),
        ("repeated", 6, 5, 3, repeated, 1e-4),
    ];
    for (what, batch, l, k, x, h) in cases {
        let (out, t) = dev.svd_truncate_forward(&up(dev, &x), batch, l, k);
        let y = down(dev, &out);
        let r: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
        let xm = crate::linalg::from_rows(&x, batch, l);
        let s = xm.svd(false, false).singular_values;
        let tail: f64 = s.iter().skip(k).map(|v| v * v).sum();
        assert!((dot(&r, &r) - tail).abs() < 1e-9, "{what}: residual energy");
        let (ym, rm) = (
            crate::linalg::from_rows(&y, batch, l),
            crate::linalg::from_rows(&r, batch, l),
        );
        assert!(
            (rm * ym.transpose()).abs().max() < 1e-9,
            "{what}: residual ⟂ output"
        );
        let weights = noise(batch * l, 15);
        let g = dev.svd_truncate_backward(&t, &up(dev, &weights));
        let f = |x: &[f64]| {
            dot(
                &down(dev, &dev.svd_truncate_forward(&up(dev, x), batch, l, k).0),
                &weights,
            )
        };
        assert_close(&down(dev, &g), &numeric_grad(f, &x, h), 1e-7, what);
    }
}
crate::device::matrix::test_device!(kernels_project_and_differentiate);
