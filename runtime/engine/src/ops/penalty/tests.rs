use super::{contractive, sparsity, weak};
use crate::ops::gradcheck::{constant, max_error, noise, scalar, Case};

#[test]
fn sparsity_is_the_kl_divergence_of_the_mean_activation() {
    let (rho, m) = (0.05f64, 0.2f64);
    let want = 3.0 * (rho * (rho / m).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - m)).ln());
    let got = scalar(|t| {
        let z = constant(t, &[0.1, 0.3, 0.2, 0.2], 2, 2);
        sparsity(t, z, rho, 3.0)
    });
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    // At m = ρ the penalty vanishes.
    let zero = scalar(|t| {
        let z = constant(t, &[0.05; 6], 2, 3);
        sparsity(t, z, 0.05, 1.0)
    });
    assert!(zero.abs() < 1e-6);
}

#[test]
fn sparsity_backward_matches_finite_differences() {
    let case = Case {
        x: noise(12, 3).iter().map(|v| 0.5 + 0.4 * v).collect(),
        rows: 3,
        cols: 4,
        mats: vec![],
        vecs: vec![],
    };
    let err = max_error(&case, |t, z, _| sparsity(t, z, 0.05, 2.0));
    assert!(err < 1e-7, "{err}");
}

#[test]
fn contractive_is_the_jacobian_norm_of_a_sigmoid_layer() {
    // h = σ(x W): ∂h_j/∂x_i = h_j(1 − h_j) W_ij; compare Σ (∂h/∂x)² for one sample.
    let (w, h) = (noise(6, 4), [0.3f64, 0.6]);
    let mut want = 0.0;
    for i in 0..3 {
        for j in 0..2 {
            want += (h[j] * (1.0 - h[j]) * w[i * 2 + j]).powi(2);
        }
    }
    let got = scalar(|t| {
        let (hm, wm) = (constant(t, &h, 1, 2), constant(t, &w, 3, 2));
        contractive(t, hm, wm, 1.0)
    });
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

#[test]
fn contractive_backward_matches_finite_differences_for_h_and_w() {
    let case = Case {
        x: noise(8, 5).iter().map(|v| 0.5 + 0.4 * v).collect(),
        rows: 2,
        cols: 4,
        mats: vec![(noise(12, 6), 3, 4)],
        vecs: vec![],
    };
    let err = max_error(&case, |t, h, p| contractive(t, h, p.mats[0], 0.7));
    assert!(err < 1e-7, "{err}");
}

#[test]
fn weak_is_the_distance_to_the_rank_k_truncation() {
    // Rows are samples: Y (L × batch) = [[3, 0], [0, 1]]·… has singular values 3 and 1.
    let of = |k| {
        scalar(|t| {
            let y = constant(t, &[3.0, 0.0, 0.0, 1.0], 2, 2);
            weak(t, y, k, 2.0)
        })
    };
    assert!((of(1) - 2.0).abs() < 1e-12);
    assert!(of(2).abs() < 1e-12);
}

#[test]
fn weak_backward_matches_finite_differences() {
    for (rows, cols, k) in [(5, 4, 2), (3, 6, 1), (4, 4, 3)] {
        let case = Case {
            x: noise(rows * cols, 7 + k as u64),
            rows,
            cols,
            mats: vec![],
            vecs: vec![],
        };
        let err = max_error(&case, |t, y, _| weak(t, y, k, 1.5));
        assert!(err < 1e-6, "{rows}×{cols} k = {k}: {err}");
    }
}

/// The penalty kernels on a device: their derivatives against central differences of
/// their own values, the sparsity value against its closed form.
fn kernels_differentiate_their_values<D: super::PenaltyKernel<f64>>(dev: &D) {
    use crate::device::matrix::{assert_close, down, numeric_grad, up};
    // Sigmoid-like values in (0, 1) for the sparsity and contractive penalties.
    let h: Vec<f64> = noise(12, 31).iter().map(|v| 0.5 + 0.4 * v).collect();
    let (value, d) = dev.sparsity_forward(&up(dev, &h), 0.05, 1.5);
    let m = h.iter().sum::<f64>() / 12.0;
    let want = 1.5 * (0.05 * (0.05 / (m + 1e-8)).ln() + 0.95 * (0.95 / (1.0 - m + 1e-8)).ln());
    assert!((value - want).abs() < 1e-12, "sparsity: {value} vs {want}");
    let f = |z: &[f64]| dev.sparsity_forward(&up(dev, z), 0.05, 1.5).0;
    let g = down(dev, &dev.scaled(&d, 1.0));
    assert_close(&g, &numeric_grad(f, &h, 1e-6), 1e-7, "sparsity gradient");

    let w = noise(15, 32); // in = 5, L = 3
    let (_, dh, dw) = dev.contractive_forward(&up(dev, &h), &up(dev, &w), 3, 0.7);
    let fh = |z: &[f64]| dev.contractive_forward(&up(dev, z), &up(dev, &w), 3, 0.7).0;
    let fw = |v: &[f64]| dev.contractive_forward(&up(dev, &h), &up(dev, v), 3, 0.7).0;
    let (gh, gw) = (
        down(dev, &dev.scaled(&dh, 1.0)),
        down(dev, &dev.scaled(&dw, 1.0)),
    );
    assert_close(&gh, &numeric_grad(fh, &h, 1e-6), 1e-7, "contractive ∂/∂h");
    assert_close(&gw, &numeric_grad(fw, &w, 1e-6), 1e-7, "contractive ∂/∂W");

    let y = noise(20, 33); // batch 4, L 5
    let (_, d) = dev.weak_forward(&up(dev, &y), 4, 5, 2, 0.9);
    let f = |y: &[f64]| dev.weak_forward(&up(dev, y), 4, 5, 2, 0.9).0;
    let g = down(dev, &dev.scaled(&d, 1.0));
    assert_close(&g, &numeric_grad(f, &y, 1e-6), 1e-6, "weak gradient");
}
crate::device::matrix::test_device!(kernels_differentiate_their_values);
