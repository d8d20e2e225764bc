use super::loss;
use crate::ops::gradcheck::{constant, max_error, noise, scalar, Case};
use rrae_lang::ir::Loss;

#[test]
fn relative_l2_is_percent_of_the_target_norm() {
    let of = |kind| {
        scalar(|t| {
            let y = constant(t, &[3.0, 4.0], 1, 2);
            let p = constant(t, &[3.0, 4.5], 1, 2);
            loss(t, kind, p, y)
        })
    };
    let l = of(Loss::RelativeL2);
    assert!((l - 10.0).abs() < 1e-9, "{l}");
    assert!((of(Loss::Mse) - 0.125).abs() < 1e-12);
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
        let err = max_error(&case, |t, x, _| {
            let y = constant(t, &target, 3, 4);
            loss(t, kind, x, y)
        });
        assert!(err < 1e-7, "{kind:?}: {err}");
    }
}

#[test]
fn cross_entropy_matches_the_definition_and_finite_differences() {
    use super::cross_entropy;
    let want = ((1f64.exp() + 2f64.exp() + 3f64.exp()).ln() - 2.0 + 3f64.ln()) / 2.0;
    let got = scalar(|t| {
        let x = constant(t, &[1.0, 2.0, 3.0, 0.0, 0.0, 0.0], 2, 3);
        cross_entropy(t, x, &[1, 0])
    });
    assert!((got - want).abs() < 1e-12);
    let case = Case {
        x: noise(12, 4),
        rows: 3,
        cols: 4,
        mats: vec![],
        vecs: vec![],
    };
    let err = max_error(&case, |t, x, _| cross_entropy(t, x, &[0, 3, 1]));
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
