//! The device test matrix (candle's `test_device!`): a kernel test is written once,
//! generic over the device, and [`test_device!`] runs it on every device the engine
//! has. Each test checks a kernel against something independent of it: the naive
//! reference loops, a closed form, or central finite differences of the kernel's own
//! forward (in f64, so that they are accurate to about 1e-8).

use super::Device;

/// Runs `body(&device)` as one `#[test]` per device: `test_device!(body)` defines
/// `mod body { fn cpu() }`. A device added to the engine adds its line here, so every
/// kernel test runs on it.
macro_rules! test_device {
    ($body:ident) => {
        mod $body {
            #[test]
            fn cpu() {
                super::$body(&$crate::device::Cpu);
            }
        }
    };
}
pub(crate) use test_device;

/// `x` in `dev`'s memory.
pub fn up<D: Device>(dev: &D, x: &[f64]) -> D::Buf<f64> {
    dev.upload(x)
}

/// A host copy of `b`.
pub fn down<D: Device>(dev: &D, b: &D::Buf<f64>) -> Vec<f64> {
    dev.download(b)
}

/// `Σ a ⊙ b`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "dot of different lengths");
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Central differences of `f` at `x` in every coordinate, with step `h`.
pub fn numeric_grad(f: impl Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut p = x.to_vec();
    (0..x.len())
        .map(|i| {
            p[i] = x[i] + h;
            let up = f(&p);
            p[i] = x[i] - h;
            let dn = f(&p);
            p[i] = x[i];
            (up - dn) / (2.0 * h)
        })
        .collect()
}

/// Fails unless `|a − b| ≤ tol·max(1, |b|)` element by element, naming `what`.
pub fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: lengths {} and {}",
        a.len(),
        b.len()
    );
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * y.abs().max(1.0),
            "{what}[{i}]: {x} against {y} (tolerance {tol})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helpers_catch_what_they_are_for() {
        let g = numeric_grad(|x| x[0] * x[0] + 3.0 * x[1], &[2.0, 5.0], 1e-5);
        assert_close(&g, &[4.0, 3.0], 1e-8, "gradient of x² + 3y");
        let caught = std::panic::catch_unwind(|| assert_close(&[1.0], &[1.1], 1e-3, "t"));
        assert!(caught.is_err(), "a 10 % difference passed a 1e-3 tolerance");
    }
}
