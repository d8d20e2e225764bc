//! libtorch as the oracle (`cargo test -p rrae-engine --features torch-oracle`): every op's
//! forward value and its gradients with respect to every input, on random f64 inputs,
//! against the same computation written with `tch` and differentiated by PyTorch's
//! autograd. The finite differences of `gradcheck.rs` check each backward against its
//! own forward; this checks the forward itself, and the layouts (weights, channels,
//! the rows-are-samples latent) against PyTorch's conventions.

use super::activation::{activate, Activation};
use super::conv2d::conv2d;
use super::conv_transpose2d::conv_transpose2d;
use super::elementwise::add;
use super::gradcheck::{constant, forward_backward, noise, Case, CheckTape, Params};
use super::linear::linear;
use super::loss::loss;
use super::matmul::matmul;
use super::penalty::{contractive, sparsity, weak};
use super::weighted::Epilogue;
use crate::latent::svd_truncate::svd_truncate;
use crate::tape::Var;
use rrae_artifact::Geometry;
use rrae_lang::ir::Loss;
use tch::{Kind, Tensor};

/// An f64 leaf that wants its gradient.
fn leaf(v: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).view(shape).set_requires_grad(true)
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.detach().contiguous().view([-1])).unwrap_or_default()
}

/// The tensors of a case: x as `rows × cols`, each matrix and each vector (`1 × n`).
struct Leaves {
    x: Tensor,
    mats: Vec<Tensor>,
    vecs: Vec<Tensor>,
}

/// Runs `ours` on the tape and `theirs` in libtorch on the same case and the same
/// upstream weights; the values and every gradient must agree to 1e-9 relative.
fn agree(
    name: &str,
    case: &Case,
    ours: impl Fn(&mut CheckTape, Var, &Params) -> Var,
    theirs: impl Fn(&Leaves) -> Tensor,
) {
    let (got, grads) = forward_backward(case, None, &ours);
    let l = Leaves {
        x: leaf(&case.x, &[case.rows as i64, case.cols as i64]),
        mats: case
            .mats
            .iter()
            .map(|(d, r, c)| leaf(d, &[*r as i64, *c as i64]))
            .collect(),
        vecs: case
            .vecs
            .iter()
            .map(|d| leaf(d, &[1, d.len() as i64]))
            .collect(),
    };
    let out = theirs(&l).to_kind(Kind::Double);
    let want = values(&out);
    let r = Tensor::from_slice(&noise(want.len(), 99));
    (out.contiguous().view([-1]) * r)
        .sum(Kind::Double)
        .backward();
    let close = |what: &str, a: &[f64], b: &[f64]| {
        assert_eq!(a.len(), b.len(), "{name}: {what} sizes");
        let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let err = a
            .iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
            / scale;
        assert!(
            err < 1e-9,
            "{name}: {what} differs by {err:e} (relative to {scale})"
        );
    };
    close("forward", &got, &want);
    let torch_grads = std::iter::once(&l.x).chain(&l.mats).chain(&l.vecs);
    for (i, (g, t)) in grads.iter().zip(torch_grads).enumerate() {
        let tg = t.grad();
        let tg = if tg.defined() {
            values(&tg)
        } else {
            vec![0.0; g.len()]
        };
        close(&format!("gradient {i}"), g, &tg);
    }
}

fn case(rows: usize, cols: usize, mats: &[(usize, usize)], vecs: &[usize], seed: u64) -> Case {
    Case {
        x: noise(rows * cols, seed),
        rows,
        cols,
        mats: mats
            .iter()
            .enumerate()
            .map(|(i, &(r, c))| (noise(r * c, seed + 10 + i as u64), r, c))
            .collect(),
        vecs: vecs
            .iter()
            .enumerate()
            .map(|(i, &n)| noise(n, seed + 20 + i as u64))
            .collect(),
    }
}

#[test]
fn linear_matmul_and_add() {
    let c = case(5, 7, &[(7, 3)], &[3], 1);
    agree(
        "linear",
        &c,
        |t, x, p| linear(t, x, p.mats[0], Some(p.vecs[0])).unwrap_or_else(|e| panic!("{e}")), // ok: test
        |l| l.x.matmul(&l.mats[0]) + &l.vecs[0],
    );
    agree(
        "matmul",
        &c,
        |t, x, p| matmul(t, x, p.mats[0]).unwrap_or_else(|e| panic!("{e}")), // ok: test
        |l| l.x.matmul(&l.mats[0]),
    );
    let c = case(4, 6, &[(4, 6)], &[], 2);
    agree(
        "add",
        &c,
        |t, x, p| add(t, x, p.mats[0]).unwrap_or_else(|e| panic!("{e}")), // ok: test
        |l| &l.x + &l.mats[0],
    );
}

#[test]
fn activations() {
    let c = case(4, 9, &[], &[], 3);
    for (a, name) in [
        (Activation::Relu, "relu"),
        (Activation::Sigmoid, "sigmoid"),
        (Activation::Tanh, "tanh"),
        (Activation::LeakyRelu(0.2), "leaky_relu"),
    ] {
        agree(
            name,
            &c,
            |t, x, _| activate(t, x, a),
            |l| match a {
                Activation::Relu => l.x.relu(),
                Activation::Sigmoid => l.x.sigmoid(),
                Activation::Tanh => l.x.tanh(),
                Activation::LeakyRelu(s) => l.x.maximum(&(&l.x * s)),
            },
        );
    }
}

/// torch's [N, C, H, W] image of rows of `c·h·w` values.
fn images(x: &Tensor, c: usize, hw: [usize; 2]) -> Tensor {
    x.view([-1, c as i64, hw[0] as i64, hw[1] as i64])
}

fn pair(v: [usize; 2]) -> [i64; 2] {
    [v[0] as i64, v[1] as i64]
}

#[test]
fn conv2d_in_torch_layout() {
    let g = Geometry::new;
    for (geo, cout) in [
        (g(2, [8, 8], [4, 4], [3, 3], [2, 2], [1, 1], [1, 1]), 3),
        (g(2, [7, 6], [4, 4], [3, 2], [2, 1], [1, 0], [1, 2]), 6),
        (g(3, [1, 9], [1, 5], [1, 3], [1, 2], [0, 1], [1, 1]), 2),
    ] {
        let c = case(2, geo.big_len(), &[(cout, geo.col_rows())], &[cout], 4);
        for epilogue in [Epilogue::None, Epilogue::Relu] {
            agree(
                "conv2d",
                &c,
                |t, x, p| conv2d(t, x, p.mats[0], Some(p.vecs[0]), geo, epilogue),
                |l| {
                    let w = l.mats[0].view([
                        cout as i64,
                        geo.channels as i64,
                        geo.kernel[0] as i64,
                        geo.kernel[1] as i64,
                    ]);
                    let y = images(&l.x, geo.channels, geo.big).conv2d(
                        &w,
                        Some(l.vecs[0].view([-1])),
                        pair(geo.stride),
                        pair(geo.padding),
                        pair(geo.dilation),
                        1,
                    );
                    let y = if matches!(epilogue, Epilogue::Relu) {
                        y.relu()
                    } else {
                        y
                    };
                    y.view([2, -1])
                },
            );
        }
    }
}

#[test]
fn conv_transpose2d_in_torch_layout() {
    let g = Geometry::new;
    for (geo, cin) in [
        (g(2, [8, 8], [4, 4], [3, 3], [2, 2], [1, 1], [1, 1]), 3),
        (g(3, [8, 6], [4, 3], [3, 3], [2, 2], [1, 1], [1, 1]), 2),
        (g(2, [7, 5], [3, 3], [3, 2], [1, 1], [0, 0], [2, 2]), 2),
    ] {
        let n_in = cin * geo.col_cols();
        let c = case(2, n_in, &[(cin, geo.col_rows())], &[geo.channels], 5);
        // output_padding: what the grid adds beyond the transposed convolution's size.
        let out_pad = |i: usize| {
            let base =
                (geo.small[i] - 1) * geo.stride[i] + geo.dilation[i] * (geo.kernel[i] - 1) + 1;
            (geo.big[i] + 2 * geo.padding[i] - base) as i64
        };
        agree(
            "conv_transpose2d",
            &c,
            |t, x, p| conv_transpose2d(t, x, p.mats[0], Some(p.vecs[0]), geo, Epilogue::None),
            |l| {
                let w = l.mats[0].view([
                    cin as i64,
                    geo.channels as i64,
                    geo.kernel[0] as i64,
                    geo.kernel[1] as i64,
                ]);
                images(&l.x, cin, geo.small)
                    .conv_transpose2d(
                        &w,
                        Some(l.vecs[0].view([-1])),
                        pair(geo.stride),
                        pair(geo.padding),
                        [out_pad(0), out_pad(1)],
                        1,
                        pair(geo.dilation),
                    )
                    .view([2, -1])
            },
        );
    }
}

#[test]
fn losses() {
    let c = case(3, 8, &[], &[], 6);
    let target = noise(24, 60);
    for kind in [Loss::RelativeL2, Loss::Mse] {
        let tgt = target.clone();
        agree(
            "loss",
            &c,
            move |t, x, _| {
                let y = constant(t, &tgt, 3, 8);
                loss(t, kind, x, y)
            },
            |l| {
                let y = Tensor::from_slice(&target).view([3, 8]);
                let d = &l.x - &y;
                match kind {
                    Loss::RelativeL2 => {
                        d.square().sum(Kind::Double).sqrt() * 100.0
                            / y.square().sum(Kind::Double).sqrt()
                    }
                    Loss::Mse => d.square().mean(Kind::Double),
                }
            },
        );
    }
}

#[test]
fn penalties() {
    // Sparsity of a sigmoid latent: values in (0, 1).
    let mut c = case(4, 6, &[], &[], 7);
    c.x.iter_mut().for_each(|v| *v = 0.5 + 0.4 * *v);
    let (rho, beta, eps) = (0.05, 0.3, 1e-8);
    agree(
        "sparsity",
        &c,
        |t, x, _| sparsity(t, x, rho, beta),
        |l| {
            let m = l.x.mean(Kind::Double);
            ((rho / (&m + eps)).log() * rho
                + ((1.0 - rho) / ((-&m + 1.0) + eps)).log() * (1.0 - rho))
                * beta
        },
    );
    // Contractive: h = σ(·) of 5 units for 4 samples, W of 7 inputs × 5 units.
    let mut c = case(4, 5, &[(7, 5)], &[], 8);
    c.x.iter_mut().for_each(|v| *v = 0.5 + 0.4 * *v);
    agree(
        "contractive",
        &c,
        |t, h, p| contractive(t, h, p.mats[0], 0.7),
        |l| {
            let a = &l.x * (-&l.x + 1.0);
            let wsq = l.mats[0]
                .square()
                .sum_dim_intlist(&[0i64][..], true, Kind::Double);
            (a.square() * wsq).sum(Kind::Double) * 0.7 / 4.0
        },
    );
    // Weak RRAE: β‖Y − Y_k‖ through torch's SVD.
    let c = case(5, 8, &[], &[], 9);
    agree(
        "weak",
        &c,
        |t, y, _| weak(t, y, 2, 0.4),
        |l| (&l.x - rank_k(&l.x, 2)).square().sum(Kind::Double).sqrt() * 0.4,
    );
}

/// Rank-k truncation of the rows-are-samples `x` (batch × L), through torch's SVD and
/// its autograd.
fn rank_k(x: &Tensor, k: i64) -> Tensor {
    let (u, s, v) = x.tr().svd(true, true);
    let y = u
        .narrow(1, 0, k)
        .matmul(&s.narrow(0, 0, k).diag(0))
        .matmul(&v.narrow(1, 0, k).tr());
    y.tr()
}

#[test]
fn svd_truncation_and_its_backward() {
    // L = 8 latents for batches of 5 and of 12 (more samples than L), ranks 1 to 3.
    for (batch, l, k) in [(5, 8, 2), (5, 8, 1), (12, 8, 3)] {
        let c = case(batch, l, &[], &[], 10 + k as u64);
        agree(
            "svd_truncate",
            &c,
            |t, x, _| svd_truncate(t, x, k).0,
            |lv| rank_k(&lv.x, k as i64),
        );
    }
}
