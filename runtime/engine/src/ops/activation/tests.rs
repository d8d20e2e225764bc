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
