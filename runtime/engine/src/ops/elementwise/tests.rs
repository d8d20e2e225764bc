use super::*;
use crate::device::matrix::{assert_close, down, test_device, up};
use crate::tape::Tape;

/// The kernels against plain host arithmetic, on every device.
fn kernels<D: TapeKernel<f64>>(dev: &D) {
    let n = 300_000; // long enough for the parallel path
    let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
    let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
    let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    assert_close(
        &down(dev, &dev.add(&up(dev, &a), &up(dev, &b))),
        &want,
        0.0,
        "add",
    );
    let mut acc = dev.copy(&up(dev, &a));
    dev.add_assign(&mut acc, &up(dev, &b));
    assert_close(&down(dev, &acc), &want, 0.0, "add_assign");
    assert!(down(dev, &dev.zeros(7)).iter().all(|&z| z == 0.0));
}
test_device!(kernels);

/// A value used twice gets both gradients: d(x + x)/dx = 2.
fn a_value_used_twice_gets_both_gradients<D: TapeKernel<f64>>(dev: &D) {
    let mut tape = Tape::new(dev.clone());
    let x = tape.leaf(dev.upload(&[3.0]), 1, 1);
    let c = tape.constant(dev.upload(&[4.0]), 1, 1);
    let s = add(&mut tape, x, x).and_then(|s| add(&mut tape, s, c));
    let s = s.unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert_eq!(tape.item(s), 10.0);
    let mut grads = tape.backward(s).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let g = grads.take(x).map(|g| dev.download(&g));
    assert_eq!(g, Some(vec![2.0]));
    assert!(grads.take(c).is_none(), "a constant got a gradient");
}
test_device!(a_value_used_twice_gets_both_gradients);

#[test]
fn shapes_that_differ_are_an_error_not_a_panic() {
    let mut tape: Tape<crate::device::Cpu, f64> = Tape::new(crate::device::Cpu);
    let a = tape.leaf(crate::pool::Buf::from_vec(vec![1.0, 2.0]), 1, 2);
    let b = tape.leaf(crate::pool::Buf::from_vec(vec![1.0, 2.0]), 2, 1);
    assert!(add(&mut tape, a, b).is_err());
}
