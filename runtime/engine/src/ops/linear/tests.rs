use super::{linear, BiasKernel};
use crate::device::matrix::{assert_close, down, test_device, up};
use crate::device::Cpu;
use crate::ops::activation::{activate, Activation};
use crate::ops::gradcheck::{
    constant, forward_backward, max_error, noise, values, weighted_sum, Case,
};
use crate::pool::Buf;
use crate::tape::Tape;

fn ok<T>(r: crate::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}")) // ok: test
}

#[test]
fn forward_is_x_w_plus_b() {
    let y = values(|t| {
        let x = constant(t, &[1.0, 2.0, 3.0, 4.0], 2, 2);
        let w = constant(t, &[1.0, 0.0, -1.0, 0.5, 1.0, 2.0], 2, 3);
        let b = constant(t, &[0.1, 0.2, 0.3], 1, 3);
        ok(linear(t, x, w, Some(b)))
    });
    assert_eq!(y, vec![2.1, 2.2, 3.3, 5.1, 4.2, 5.3]);
}

#[test]
fn backward_matches_finite_differences() {
    let case = Case {
        x: noise(3 * 4, 1),
        rows: 3,
        cols: 4,
        mats: vec![(noise(4 * 5, 2), 4, 5)],
        vecs: vec![noise(5, 3)],
    };
    let err = max_error(&case, |t, x, p| {
        ok(linear(t, x, p.mats[0], Some(p.vecs[0])))
    });
    assert!(err < 1e-8, "{err}");
    // The input wants a gradient here (a leaf); a batch of data does not get one.
    let (_, grads) = forward_backward(&case, None, |t, x, p| ok(linear(t, x, p.mats[0], None)));
    assert!(grads[0].iter().any(|&g| g != 0.0));
}

/// The bias kernels: a row broadcast and column sums.
fn bias_kernels<D: BiasKernel<f64>>(dev: &D) {
    let (rows, cols) = (5, 3);
    let y = noise(rows * cols, 4);
    let b = noise(cols, 5);
    let mut yb = up(dev, &y);
    dev.add_bias(&mut yb, &up(dev, &b), cols);
    let want: Vec<f64> = (0..rows * cols).map(|i| y[i] + b[i % cols]).collect();
    assert_close(&down(dev, &yb), &want, 0.0, "add_bias");
    let sums: Vec<f64> = (0..cols)
        .map(|j| (0..rows).map(|i| y[i * cols + j]).sum())
        .collect();
    let got = down(dev, &dev.bias_grad(&up(dev, &y), rows, cols));
    assert_close(&got, &sums, 1e-15, "bias_grad");
}
test_device!(bias_kernels);

/// The engine's linear layers and activations give, bit for bit, what dfdx gave
/// before the engine had its own tape: outputs and every gradient of a small MLP in
/// f32, with products large enough for the GEMM to block and split over threads. The
/// loss traces of every model made of these layers rest on this.
#[test]
fn an_mlp_matches_dfdx_bit_for_bit() {
    let (batch, sizes) = (48usize, [300usize, 130, 70, 20]);
    let f =
        |n: usize, seed: u64| -> Vec<f32> { noise(n, seed).iter().map(|&v| v as f32).collect() };
    let x = f(batch * sizes[0], 1);
    let ws: Vec<Vec<f32>> = (0..3)
        .map(|i| f(sizes[i] * sizes[i + 1], 10 + i as u64))
        .collect();
    let bs: Vec<Vec<f32>> = (0..3).map(|i| f(sizes[i + 1], 20 + i as u64)).collect();
    let r = f(batch * sizes[3], 30);
    let acts = [Activation::Relu, Activation::Sigmoid, Activation::Tanh];

    // The engine.
    let mut tape = Tape::<Cpu, f32>::new(Cpu);
    let xv = tape.leaf(Buf::from_vec(x.clone()), batch, sizes[0]);
    let wv: Vec<_> = (0..3)
        .map(|i| tape.leaf(Buf::from_vec(ws[i].clone()), sizes[i], sizes[i + 1]))
        .collect();
    let bv: Vec<_> = (0..3)
        .map(|i| tape.leaf(Buf::from_vec(bs[i].clone()), 1, sizes[i + 1]))
        .collect();
    let mut h = xv;
    for i in 0..3 {
        h = ok(linear(&mut tape, h, wv[i], Some(bv[i])));
        h = activate(&mut tape, h, acts[i]);
    }
    let out = tape.download(h);
    let loss = weighted_sum(&mut tape, h, r.clone());
    let mut grads = ok(tape.backward(loss));
    let mut ours = vec![out];
    for v in std::iter::once(xv).chain(wv).chain(bv) {
        ours.push(grads.take(v).map(|g| g.to_vec()).unwrap_or_default());
    }

    let theirs = dfdx_mlp(batch, sizes, x, &ws, &bs, r, acts);
    let names = ["output", "∂x", "∂W0", "∂W1", "∂W2", "∂b0", "∂b1", "∂b2"];
    for ((a, b), name) in ours.iter().zip(&theirs).zip(names) {
        assert_eq!(a.len(), b.len(), "{name}");
        let same = a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits());
        assert!(same, "{name} differs from dfdx's");
    }
}

/// The same MLP on dfdx, as `linear` and `activate` called it: the output, then the
/// gradients of x, the weights and the biases.
fn dfdx_mlp(
    batch: usize,
    sizes: [usize; 4],
    x: Vec<f32>,
    ws: &[Vec<f32>],
    bs: &[Vec<f32>],
    r: Vec<f32>,
    acts: [Activation; 3],
) -> Vec<Vec<f32>> {
    use dfdx::prelude::*;
    let dev = dfdx::tensor::Cpu::default();
    let xt = dev.tensor_from_vec(x, (batch, sizes[0]));
    let wt: Vec<_> = (0..3)
        .map(|i| dev.tensor_from_vec(ws[i].clone(), (sizes[i], sizes[i + 1])))
        .collect();
    let bt: Vec<_> = (0..3)
        .map(|i| dev.tensor_from_vec(bs[i].clone(), (sizes[i + 1],)))
        .collect();
    let mut h = xt.leaky_trace();
    for i in 0..3 {
        let y = h.matmul(wt[i].clone());
        let shape = *y.shape();
        h = y + bt[i].clone().broadcast_like::<_, Axis<0>>(&shape);
        h = match acts[i] {
            Activation::Relu => h.relu(),
            Activation::Sigmoid => h.sigmoid(),
            Activation::Tanh => h.tanh(),
            Activation::LeakyRelu(_) => unreachable!(), // ok: test (not in `acts`)
        };
    }
    let out = h.as_vec();
    let rt = dev.tensor_from_vec(r, (batch, sizes[3]));
    let g = (h * rt).sum().backward();
    let mut theirs = vec![out, g.get(&xt).as_vec()];
    theirs.extend(wt.iter().map(|w| g.get(w).as_vec()));
    theirs.extend(bt.iter().map(|b| g.get(b).as_vec()));
    theirs
}
