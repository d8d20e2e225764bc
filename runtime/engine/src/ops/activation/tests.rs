use super::{activate, Activation, ActivationKernel};
use crate::device::matrix::{assert_close, dot, down, numeric_grad, test_device, up};
use crate::ops::gradcheck::{constant, max_error, noise, values, Case};

const ALL: [Activation; 4] = [
    Activation::Relu,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::LeakyRelu(0.1),
];

/// Inputs away from ReLU's kink so central differences are valid.
fn away_from_zero(n: usize, seed: u64) -> Vec<f64> {
    noise(n, seed)
        .into_iter()
        .map(|v| if v.abs() < 0.05 { v + 0.1 } else { v })
        .collect()
}

#[test]
fn backward_matches_finite_differences() {
    let case = Case {
        x: away_from_zero(24, 1),
        rows: 4,
        cols: 6,
        mats: vec![],
        vecs: vec![],
    };
    for a in ALL {
        let err = max_error(&case, |t, x, _| activate(t, x, a));
        assert!(err < 1e-8, "{a:?}: {err}");
    }
}

#[test]
fn leaky_relu_scales_negatives() {
    let y = values(|t| {
        let x = constant(t, &[-2.0, 3.0], 1, 2);
        activate(t, x, Activation::LeakyRelu(0.5))
    });
    assert_eq!(y, vec![-1.0, 3.0]);
}

/// The activation kernels on a device: each forward against its closed form, each
/// backward against central differences of the kernel's own forward, away from the
/// kink; long enough inputs to run on several threads.
fn kernels_match_their_definitions<D: ActivationKernel<f64>>(dev: &D) {
    let n = 70_000;
    let x = away_from_zero(n, 41);
    let r = noise(n, 42);
    for a in ALL {
        let f = |v: f64| match a {
            Activation::Relu => v.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
            Activation::Tanh => v.tanh(),
            Activation::LeakyRelu(s) => {
                if v > 0.0 {
                    v
                } else {
                    s * v
                }
            }
        };
        let want: Vec<f64> = x.iter().map(|&v| f(v)).collect();
        let xu = up(dev, &x);
        let y = dev.activation_forward(a, &xu);
        assert_close(&down(dev, &y), &want, 1e-15, &format!("{a:?} forward"));
        // Central differences, element by element, on a short prefix.
        let m = 64;
        let g = down(dev, &dev.activation_backward(a, &xu, &y, &up(dev, &r)));
        let fwd = |x: &[f64]| dot(&down(dev, &dev.activation_forward(a, &up(dev, x))), &r[..m]);
        let numeric = numeric_grad(fwd, &x[..m], 1e-6);
        assert_close(&g[..m], &numeric, 1e-8, &format!("{a:?} backward"));
    }
}
test_device!(kernels_match_their_definitions);
