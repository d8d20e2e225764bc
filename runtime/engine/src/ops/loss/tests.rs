use super::loss;
use crate::ops::gradcheck::{max_error, noise, Case};
use dfdx::prelude::*;
use rrae_lang::ir::Loss;

#[test]
fn relative_l2_is_percent_of_the_target_norm() {
    let dev = Cpu::default();
    let y = dev.tensor_from_vec(vec![3.0f64, 4.0], (1, 2));
    let p = dev.tensor_from_vec(vec![3.0f64, 4.5], (1, 2));
    let l = loss(Loss::RelativeL2, p, &y).array();
    assert!((l - 10.0).abs() < 1e-9, "{l}");
    let p = dev.tensor_from_vec(vec![3.0f64, 4.5], (1, 2));
    assert!((loss(Loss::Mse, p, &y).array() - 0.125).abs() < 1e-12);
}

#[test]
fn backward_matches_finite_differences() {
    let target = noise(12, 9);
    for kind in [Loss::RelativeL2, Loss::Mse] {
        let case = Case {
            x: noise(12, 1),
            rows: 3,
            cols: 4,
            mats: vec![],
            vecs: vec![],
        };
        // The target is data, not an input: it stays fixed under the perturbations.
        let dev = Cpu::default();
        let y = dev.tensor_from_vec(target.clone(), (3, 4));
        // The loss is a scalar; the harness wants a matrix: reshape it to 1 × 1.
        let err = max_error(&case, |x, _| {
            loss(kind, x, &y).broadcast_like::<_, Axes2<0, 1>>(&(1usize, 1usize))
        });
        assert!(err < 1e-7, "{kind:?}: {err}");
    }
}

#[test]
fn cross_entropy_matches_the_definition_and_finite_differences() {
    use super::cross_entropy;
    let dev = Cpu::default();
    let x = dev.tensor_from_vec(vec![1.0f64, 2.0, 3.0, 0.0, 0.0, 0.0], (2, 3));
    let want = ((1f64.exp() + 2f64.exp() + 3f64.exp()).ln() - 2.0 + 3f64.ln()) / 2.0;
    assert!((cross_entropy(x, &[1, 0]).array() - want).abs() < 1e-12);
    let case = Case {
        x: noise(12, 4),
        rows: 3,
        cols: 4,
        mats: vec![],
        vecs: vec![],
    };
    let err = max_error(&case, |x, _| {
        cross_entropy(x, &[0, 3, 1]).broadcast_like::<_, Axes2<0, 1>>(&(1usize, 1usize))
    });
    assert!(err < 1e-8, "{err}");
}

/// The loss kernels on a device: values against their closed forms, gradients against
/// central differences of the kernels' own values.
fn kernels_give_values_and_gradients<D: super::LossKernel<f64>>(dev: &D) {
    use crate::device::matrix::{assert_close, down, numeric_grad, up};
    let (p, t) = (noise(12, 21), noise(12, 22));
    let diff: f64 = p.iter().zip(&t).map(|(a, b)| (a - b).powi(2)).sum();
    let norm: f64 = t.iter().map(|v| v * v).sum::<f64>();
    for (kind, want) in [
        (Loss::RelativeL2, 100.0 * (diff / norm).sqrt()),
        (Loss::Mse, diff / 12.0),
    ] {
        let (value, saved) = dev.loss_forward(kind, &up(dev, &p), &up(dev, &t));
        assert!(
            (value - want).abs() < 1e-12 * want.max(1.0),
            "{kind:?}: {value} vs {want}"
        );
        let g = down(dev, &dev.loss_backward(&saved, 2.0));
        let f = |p: &[f64]| 2.0 * dev.loss_forward(kind, &up(dev, p), &up(dev, &t)).0;
        assert_close(
            &g,
            &numeric_grad(f, &p, 1e-6),
            1e-7,
            &format!("{kind:?} gradient"),
        );
    }
    let (logits, labels) = (noise(12, 23), [0usize, 3, 1]);
    let (value, saved) = dev.cross_entropy_forward(&up(dev, &logits), 4, &labels);
    let want: f64 = labels
        .iter()
        .enumerate()
        .map(|(r, &y)| {
            let row = &logits[r * 4..(r + 1) * 4];
            row.iter().map(|v| v.exp()).sum::<f64>().ln() - row[y]
        })
        .sum::<f64>()
        / 3.0;
    assert!(
        (value - want).abs() < 1e-12,
        "cross-entropy: {value} vs {want}"
    );
    let g = down(dev, &dev.cross_entropy_backward(&saved, 0.5));
    let f = |l: &[f64]| 0.5 * dev.cross_entropy_forward(&up(dev, l), 4, &labels).0;
    assert_close(
        &g,
        &numeric_grad(f, &logits, 1e-6),
        1e-7,
        "cross-entropy gradient",
    );
}
crate::device::matrix::test_device!(kernels_give_values_and_gradients);
