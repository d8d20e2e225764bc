use super::{activate, Activation};
use crate::ops::gradcheck::{max_error, noise, Case};

#[test]
fn backward_matches_finite_differences() {
    // Inputs away from ReLU's kink so central differences are valid.
    let x: Vec<f64> = noise(24, 1)
        .into_iter()
        .map(|v| if v.abs() < 0.05 { v + 0.1 } else { v })
        .collect();
    let case = Case {
        x,
        rows: 4,
        cols: 6,
        mats: vec![],
        vecs: vec![],
    };
    for a in [
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::LeakyRelu(0.1),
    ] {
        let err = max_error(&case, |x, _| activate(x, a));
        assert!(err < 1e-8, "{a:?}: {err}");
    }
}

#[test]
fn leaky_relu_scales_negatives() {
    let dev = dfdx::prelude::Cpu::default();
    use dfdx::prelude::*;
    let x = dev.tensor_from_vec(vec![-2.0f64, 3.0], (1, 2));
    assert_eq!(
        activate(x, Activation::LeakyRelu(0.5)).as_vec(),
        vec![-1.0, 3.0]
    );
}

/// The leaky ReLU kernel on a device: its closed form, and its backward against
/// central differences away from the kink.
fn leaky_relu_kernel<D: super::LeakyReluKernel<f64>>(dev: &D) {
    use crate::device::matrix::{assert_close, dot, down, numeric_grad, up};
    let x: Vec<f64> = noise(16, 41)
        .into_iter()
        .map(|v| if v.abs() < 0.05 { v + 0.1 } else { v })
        .collect();
    let want: Vec<f64> = x
        .iter()
        .map(|&v| if v > 0.0 { v } else { 0.2 * v })
        .collect();
    assert_close(
        &down(dev, &dev.leaky_relu_forward(&up(dev, &x), 0.2)),
        &want,
        0.0,
        "forward",
    );
    let r = noise(16, 42);
    let g = down(
        dev,
        &dev.leaky_relu_backward(&up(dev, &x), &up(dev, &r), 0.2),
    );
    let f = |x: &[f64]| dot(&down(dev, &dev.leaky_relu_forward(&up(dev, x), 0.2)), &r);
    assert_close(&g, &numeric_grad(f, &x, 1e-6), 1e-8, "backward");
}
crate::device::matrix::test_device!(leaky_relu_kernel);
