//! Every GPU kernel against the CPU's on the same f32 inputs: the error of each output,
//! `‖gpu − cpu‖ / ‖cpu‖`, printed and held to 1e-4. They need an NVIDIA GPU, so they are
//! ignored by `cargo test` and run by `bench/gpu_check.sh` on a machine that has one
//! (`rrae-engine`'s test binary with `--ignored`); the CPU kernels themselves are
//! checked against references and finite differences by their own tests.

use crate::device::{Cpu, Cuda, Device};
use crate::latent::learned_basis::LearnedBasisKernel;
use crate::latent::svd_truncate::SvdTruncateKernel;
use crate::ops::activation::{Activation, ActivationKernel};
use crate::ops::conv2d::Conv2dKernel;
use crate::ops::conv_transpose2d::ConvTranspose2dKernel;
use crate::ops::linear::BiasKernel;
use crate::ops::loss::LossKernel;
use crate::ops::matmul::{MatmulKernel, Tr};
use crate::ops::penalty::PenaltyKernel;
use crate::ops::weighted::Epilogue;
use crate::optim::{OptimizerKernel, Update};
use crate::tape::TapeKernel;
use rand::{Rng, SeedableRng};
use rrae_artifact::Geometry;
use rrae_lang::ir::Loss;

const TOLERANCE: f64 = 1e-4;

fn gpu() -> Cuda {
    Cuda::new(0).unwrap_or_else(|e| panic!("these tests need a CUDA GPU: {e}")) // ok: test
}

pub(super) fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut r = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| r.gen_range(-1.0f32..1.0)).collect()
}

/// Prints and checks `‖gpu − cpu‖ / ‖cpu‖`.
pub(super) fn same(what: &str, gpu: &[f32], cpu: &[f32]) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: lengths");
    let diff: f64 = gpu
        .iter()
        .zip(cpu)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum();
    let norm: f64 = cpu.iter().map(|b| (*b as f64).powi(2)).sum();
    let e = diff.sqrt() / norm.sqrt().max(1e-30);
    println!("parity {what:<58} {e:.2e}");
    assert!(
        e <= TOLERANCE,
        "{what}: relative error {e:.3e} > {TOLERANCE:e}"
    );
}

fn same_value(what: &str, gpu: f64, cpu: f64) {
    same(what, &[gpu as f32], &[cpu as f32]);
}

#[test]
#[ignore = "needs a CUDA GPU: bench/gpu_check.sh"]
fn tape_arithmetic() {
    let d = gpu();
    let (a, b) = (noise(1000, 1), noise(1000, 2));
    let (ga, gb) = (d.upload(&a), d.upload(&b));
    let (ca, cb) = (Cpu.upload(&a), Cpu.upload(&b));
    same("add", &d.download(&d.add(&ga, &gb)), &Cpu.add(&ca, &cb));
    let (mut acc, mut cacc) = (d.copy(&ga), Cpu.copy(&ca));
    d.add_assign(&mut acc, &gb);
    Cpu.add_assign(&mut cacc, &cb);
    same("add_assign", &d.download(&acc), &cacc);
    assert_eq!(d.download(&d.zeros(7)), vec![0.0; 7]);
    d.synchronize();
    assert_eq!(d.failure(), None);
}

#[test]
#[ignore = "needs a CUDA GPU: bench/gpu_check.sh"]
fn matmul_every_transpose() {
    let d = gpu();
    let (m, k, n) = (37, 53, 29);
    for (ta, tb) in [
        (Tr::No, Tr::No),
        (Tr::Yes, Tr::No),
        (Tr::No, Tr::Yes),
        (Tr::Yes, Tr::Yes),
    ] {
        for acc in [false, true] {
            let (a, b, c0) = (noise(m * k, 3), noise(k * n, 4), noise(m * n, 5));
            let mut gc = d.upload(&c0);
            d.matmul_into(
                (m, k, n),
                &d.upload(&a),
                ta,
                &d.upload(&b),
                tb,
                &mut gc,
                acc,
            );
            let mut cc = Cpu.upload(&c0);
            Cpu.matmul_into(
                (m, k, n),
                &Cpu.upload(&a),
                ta,
                &Cpu.upload(&b),
                tb,
                &mut cc,
                acc,
            );
            same(
                &format!("matmul {ta:?} {tb:?} accumulate={acc}"),
                &d.download(&gc),
                &cc,
            );
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: bench/gpu_check.sh"]
fn bias_and_activations() {
    let d = gpu();
    let (rows, cols) = (64, 300);
    let (y, b) = (noise(rows * cols, 6), noise(cols, 7));
    let mut gy = d.upload(&y);
    d.add_bias(&mut gy, &d.upload(&b), cols);
    let mut cy = Cpu.upload(&y);
    Cpu.add_bias(&mut cy, &Cpu.upload(&b), cols);
    same("linear bias forward", &d.download(&gy), &cy);
    let g = noise(rows * cols, 8);
    same(
        "linear bias backward",
        &d.download(&d.bias_grad(&d.upload(&g), rows, cols)),
        &Cpu.bias_grad(&Cpu.upload(&g), rows, cols),
    );
    let x: Vec<f32> = noise(rows * cols, 9).iter().map(|v| v * 4.0).collect();
    for a in [
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::LeakyRelu(0.01),
    ] {
        let (gx, cx) = (d.upload(&x), Cpu.upload(&x));
        let (gyv, cyv) = (d.activation_forward(a, &gx), Cpu.activation_forward(a, &cx));
        same(&format!("{a:?} forward"), &d.download(&gyv), &cyv);
        let (gg, cg) = (d.upload(&g), Cpu.upload(&g));
        same(
            &format!("{a:?} backward"),
            &d.download(&d.activation_backward(a, &gx, &gyv, &gg)),
            &Cpu.activation_backward(a, &cx, &cyv, &cg),
        );
    }
}

/// conv2d geometries: `(geometry, C_out)`, the paper's and the zoo's layers among them.
pub(super) fn conv_geometries() -> Vec<(Geometry, usize)> {
    let g = Geometry::new;
    vec![
        (g(1, [64, 64], [32, 32], [3, 3], [2, 2], [1, 1], [1, 1]), 32),
        (
            g(32, [32, 32], [16, 16], [3, 3], [2, 2], [1, 1], [1, 1]),
            64,
        ),
        (g(2, [7, 6], [4, 4], [3, 2], [2, 1], [1, 0], [1, 2]), 5),
        (g(3, [1, 9], [1, 4], [1, 3], [1, 2], [0, 1], [1, 1]), 2),
        (g(8, [28, 28], [28, 28], [5, 5], [1, 1], [2, 2], [1, 1]), 1),
    ]
}

#[test]
#[ignore = "needs a CUDA GPU: bench/gpu_check.sh"]
fn conv2d_forward_and_backward() {
    let d = gpu();
    let batch = 4;
    for (i, (geo, cout)) in conv_geometries().into_iter().enumerate() {
        for (bias, epi) in [(true, Epilogue::Relu), (false, Epilogue::None)] {
            let x = noise(batch * geo.big_len(), 10 + i as u64);
            let w = noise(cout * geo.col_rows(), 20 + i as u64);
            let b = noise(cout, 30);
            let g = noise(batch * cout * geo.col_cols(), 40);
            let (gx, gw, gb) = (d.upload(&x), d.upload(&w), d.upload(&b));
            let (cx, cw, cb) = (Cpu.upload(&x), Cpu.upload(&w), Cpu.upload(&b));
            let (gy, gs) = d.conv2d_forward(&geo, cout, &gx, &gw, bias.then_some(&gb), epi, true);
            let (cy, cs) = Cpu.conv2d_forward(&geo, cout, &cx, &cw, bias.then_some(&cb), epi, true);
            let tag = format!("conv2d #{i} bias={bias} {epi:?}");
            same(&format!("{tag} forward"), &d.download(&gy), &cy);
            let (dx, dw, db) = d.conv2d_backward(&geo, cout, &gs, &gx, &gw, d.upload(&g));
            let (cdx, cdw, cdb) = Cpu.conv2d_backward(&geo, cout, &cs, &cx, &cw, Cpu.upload(&g));
            same(&format!("{tag} ∂x"), &d.download(&dx), &cdx);
            same(&format!("{tag} ∂W"), &d.download(&dw), &cdw);
            same(&format!("{tag} ∂b"), &d.download(&db), &cdb);
        }
    }
}

/// Transposed geometries: `(geometry with the output grid as the big one, C_in)`, the
/// paper's decoder layers among them (output padding 1 enlarges the big grid).
pub(super) fn transposed_geometries() -> Vec<(Geometry, usize)> {
    let g = Geometry::new;
    vec![
        (g(256, [8, 8], [4, 4], [3, 3], [2, 2], [1, 1], [1, 1]), 300),
        (g(8, [64, 64], [32, 32], [3, 3], [2, 2], [1, 1], [1, 1]), 32),
        (g(3, [9, 8], [4, 4], [3, 2], [2, 2], [0, 1], [1, 1]), 5),
        (g(1, [1, 11], [1, 5], [1, 3], [1, 2], [0, 0], [1, 1]), 4),
    ]
}

#[test]
#[ignore = "needs a CUDA GPU: bench/gpu_check.sh"]
fn conv_transpose2d_forward_and_backward() {
    let d = gpu();
    let batch = 3;
    for (i, (geo, cin)) in transposed_geometries().into_iter().enumerate() {
        for (bias, epi) in [(true, Epilogue::Relu), (false, Epilogue::None)] {
            let x = noise(batch * cin * geo.col_cols(), 50 + i as u64);
            let w = noise(cin * geo.col_rows(), 60 + i as u64);
            let b = noise(geo.channels, 70);
            let g = noise(batch * geo.big_len(), 80);
            let (gx, gw, gb) = (d.upload(&x), d.upload(&w), d.upload(&b));
            let (cx, cw, cb) = (Cpu.upload(&x), Cpu.upload(&w), Cpu.upload(&b));
            let (gy, gs) =
                d.conv_transpose2d_forward(&geo, cin, &gx, &gw, bias.then_some(&gb), epi, true);
            let (cy, cs) =
                Cpu.conv_transpose2d_forward(&geo, cin, &cx, &cw, bias.then_some(&cb), epi, true);
            let tag = format!("conv_transpose2d #{i} bias={bias} {epi:?}");
            same(&format!("{tag} forward"), &d.download(&gy), &cy);
            let (dx, dw, db) = d.conv_transpose2d_backward(&geo, cin, &gs, &gx, &gw, d.upload(&g));
            let (cdx, cdw, cdb) =
                Cpu.conv_transpose2d_backward(&geo, cin, &cs, &cx, &cw, Cpu.upload(&g));
            same(&format!("{tag} ∂x"), &d.download(&dx), &cdx);
            same(&format!("{tag} ∂W"), &d.download(&dw), &cdw);
            same(&format!("{tag} ∂b"), &d.download(&db), &cdb);
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: bench/gpu_check.sh"]
fn losses_and_penalties() {
    let d = gpu();
    let (p, t) = (noise(64 * 4096, 90), noise(64 * 4096, 91));
    for kind in [Loss::RelativeL2, Loss::Mse] {
        let (gv, gs) = d.loss_forward(kind, &d.upload(&p), &d.upload(&t));
        let (cv, cs) = Cpu.loss_forward(kind, &Cpu.upload(&p), &Cpu.upload(&t));
        same_value(&format!("{kind:?} value"), gv, cv);
        same(
            &format!("{kind:?} gradient"),
            &d.download(&d.loss_backward(&gs, 0.7)),
            &Cpu.loss_backward(&cs, 0.7),
        );
    }
    let (logits, labels) = (
        noise(32 * 10, 92),
        (0..32).map(|i| i % 10).collect::<Vec<_>>(),
    );
    let (gv, gs) = d.cross_entropy_forward(&d.upload(&logits), 10, &labels);
    let (cv, cs) = Cpu.cross_entropy_forward(&Cpu.upload(&logits), 10, &labels);
    same_value("cross-entropy value", gv, cv);
    same(
        "cross-entropy gradient",
        &d.download(&d.cross_entropy_backward(&gs, 1.3)),
        &Cpu.cross_entropy_backward(&cs, 1.3),
    );
    let (batch, l) = (64, 200);
    let z: Vec<f32> = noise(batch * l, 93).iter().map(|v| 0.5 + 0.4 * v).collect();
    let (gv, gd) = d.sparsity_forward(&d.upload(&z), 0.05, 3.0);
    let (cv, cd) = Cpu.sparsity_forward(&Cpu.upload(&z), 0.05, 3.0);
    same_value("sparsity value", gv, cv);
    same(
        "sparsity gradient",
        &d.download(&d.scaled(&gd, 0.5)),
        &Cpu.scaled(&cd, 0.5),
    );
    let w = noise(128 * l, 94);
    let (gv, gh, gw) = d.contractive_forward(&d.upload(&z), &d.upload(&w), l, 0.1);
    let (cv, ch, cw) = Cpu.contractive_forward(&Cpu.upload(&z), &Cpu.upload(&w), l, 0.1);
    same_value("contractive value", gv, cv);
    same(
        "contractive ∂h",
        &d.download(&d.scaled(&gh, 1.0)),
        &Cpu.scaled(&ch, 1.0),
    );
    same(
        "contractive ∂W",
        &d.download(&d.scaled(&gw, 1.0)),
        &Cpu.scaled(&cw, 1.0),
    );
    let y = noise(batch * l, 95);
    let (gv, gd) = d.weak_forward(&d.upload(&y), batch, l, 5, 2.0);
    let (cv, cd) = Cpu.weak_forward(&Cpu.upload(&y), batch, l, 5, 2.0);
    same_value("weak-RRAE value", gv, cv);
    same(
        "weak-RRAE gradient",
        &d.download(&d.scaled(&gd, 1.0)),
        &Cpu.scaled(&cd, 1.0),
    );
}

/// The SVD projector on the inputs its stable backward exists for: tall, wide,
/// rank-deficient and with repeated singular values.
#[test]
#[ignore = "needs a CUDA GPU: bench/gpu_check.sh"]
fn svd_truncate_and_learned_basis() {
    let d = gpu();
    let rank_two = |batch: usize, l: usize| -> Vec<f32> {
        let (a, b) = (noise(batch * 2, 96), noise(2 * l, 97));
        (0..batch * l)
            .map(|i| (0..2).map(|r| a[(i / l) * 2 + r] * b[r * l + i % l]).sum())
            .collect()
    };
    let repeated = |n: usize| -> Vec<f32> {
        (0..n * n)
            .map(|i| if i % (n + 1) == 0 { 1.0 } else { 0.0 })
            .collect()
    };
    let cases: Vec<(&str, Vec<f32>, usize, usize, usize)> = vec![
        ("tall (batch 64 × L 16)", noise(64 * 16, 98), 64, 16, 4),
        ("wide (batch 16 × L 200)", noise(16 * 200, 99), 16, 200, 4),
        ("rank-deficient (rank 2, k 5)", rank_two(32, 48), 32, 48, 5),
        (
            "repeated singular values (identity, k 3)",
            repeated(8),
            8,
            8,
            3,
        ),
    ];
    for (what, x, batch, l, k) in cases {
        let (gy, gt) = d.svd_truncate_forward(&d.upload(&x), batch, l, k);
        let (cy, ct) = Cpu.svd_truncate_forward(&Cpu.upload(&x), batch, l, k);
        same(
            &format!("svd_truncate {what} forward"),
            &d.download(&gy),
            &cy,
        );
        let g = noise(batch * l, 100);
        same(
            &format!("svd_truncate {what} backward"),
            &d.download(&d.svd_truncate_backward(&gt, &d.upload(&g))),
            &Cpu.svd_truncate_backward(&ct, &Cpu.upload(&g)),
        );
    }
    let (n, l, k) = (32, 40, 6);
    let (y, b, g) = (noise(n * l, 101), noise(l * k, 102), noise(n * l, 103));
    let (gz, gs) = d.learned_projection_forward(&d.upload(&y), &d.upload(&b), n, l, k);
    let (cz, cs) = Cpu.learned_projection_forward(&Cpu.upload(&y), &Cpu.upload(&b), n, l, k);
    same("learned basis forward", &d.download(&gz), &cz);
    let (gdy, gdb) = d.learned_projection_backward(&gs, &d.upload(&g));
    let (cdy, cdb) = Cpu.learned_projection_backward(&cs, &Cpu.upload(&g));
    same("learned basis ∂y", &d.download(&gdy), &cdy);
    same("learned basis ∂B", &d.download(&gdb), &cdb);
}

/// The variational family's kernels: the Gaussian sample and its KL (VAE, VRRAE), the
/// VRRAE's coefficients and basis with their backwards, LoRAE's nuclear norm.
#[test]
#[ignore = "needs a CUDA GPU: bench/gpu_check.sh"]
fn variational_latents_and_the_nuclear_norm() {
    use crate::latent::lorae::NuclearKernel;
    use crate::latent::vrrae::CoefficientsKernel;
    use crate::ops::gaussian::{Cols, GaussianKernel};
    let d = gpu();
    let (n, l) = (64, 48);
    let (m, v, e, g) = (
        noise(n * l, 110),
        noise(n * l, 111),
        noise(n * l, 112),
        noise(n * l, 113),
    );
    let up = |x: &[f32]| (d.upload(x), Cpu.upload(x));
    let ((gm, cm), (gv, cv), (ge, ce), (gg, cg)) = (up(&m), up(&v), up(&e), up(&g));
    same(
        "reparameterise",
        &d.download(&d.reparameterise(&gm, &gv, &ge)),
        &Cpu.reparameterise(&cm, &cv, &ce),
    );
    same(
        "reparameterise ∂log σ²",
        &d.download(&d.reparameterise_backward(&gv, &ge, &gg)),
        &Cpu.reparameterise_backward(&cv, &ce, &cg),
    );
    let cols = Cols { width: l, used: 20 };
    same_value(
        "kl",
        d.kl_forward(&gm, &gv, cols, 0.01),
        Cpu.kl_forward(&cm, &cv, cols, 0.01),
    );
    let ((gdm, gdv), (cdm, cdv)) = (
        d.kl_backward(&gm, &gv, cols, 0.01, 1.5),
        Cpu.kl_backward(&cm, &cv, cols, 0.01, 1.5),
    );
    same("kl ∂μ", &d.download(&gdm), &cdm);
    same("kl ∂log σ²", &d.download(&gdv), &cdv);
    let (k, width) = (5, 8);
    let (gc, gut, gt) = d.coefficients_forward(&gm, n, l, k, width);
    let (cc, cut, ct) = Cpu.coefficients_forward(&cm, n, l, k, width);
    // Singular vectors are fixed up to sign by the same host SVD on the same f32 input.
    same("vrrae coefficients", &d.download(&gc), &cc);
    same("vrrae basis", &d.download(&gut), &cut);
    let (hc, hu) = (noise(n * width, 114), noise(width * l, 115));
    same(
        "vrrae ∂y from ∂C",
        &d.download(&d.coefficients_backward(&gt, &gm, &d.upload(&hc), width)),
        &Cpu.coefficients_backward(&ct, &cm, &Cpu.upload(&hc), width),
    );
    same(
        "vrrae ∂y from ∂U_kᵀ",
        &d.download(&d.basis_backward(&gt, &d.upload(&hu), width)),
        &Cpu.basis_backward(&ct, &Cpu.upload(&hu), width),
    );
    let w = noise(l * l, 116);
    let ((gv, gd), (cv, cd)) = (
        d.nuclear_forward(&d.upload(&w), l, l, 0.001),
        Cpu.nuclear_forward(&Cpu.upload(&w), l, l, 0.001),
    );
    same_value("nuclear norm", gv, cv);
    same("nuclear norm gradient", &d.download(&gd), &cd);
    d.synchronize();
    assert_eq!(d.failure(), None);
}

#[test]
#[ignore = "needs a CUDA GPU: bench/gpu_check.sh"]
fn optimisers_over_ten_steps() {
    let d = gpu();
    let n = 5000;
    let updates = [
        (
            "adam",
            Update::Adam {
                b1: 0.9,
                b2: 0.999,
                step: 1e-3,
                c2s: 0.03,
                eps: 1e-8,
            },
        ),
        (
            "adabelief",
            Update::AdaBelief {
                b1: 0.9,
                b2: 0.999,
                step: 1e-3,
                c2s: 0.03,
                eps: 1e-8,
                eps_root: 1e-12,
            },
        ),
        (
            "sgd",
            Update::Sgd {
                mu: 0.9,
                lr: 1e-2,
                first: false,
            },
        ),
    ];
    for (name, u) in updates {
        let p0 = noise(n, 104);
        let (mut gp, mut gm, mut gv) = (d.upload(&p0), d.zeros(n), d.zeros(n));
        let (mut cp, mut cm, mut cv) = (Cpu.upload(&p0), Cpu.zeros(n), Cpu.zeros(n));
        for step in 0..10 {
            let g = noise(n, 200 + step);
            d.optimizer_update(u, &mut gp, &d.upload(&g), &mut gm, &mut gv);
            Cpu.optimizer_update(u, &mut cp, &Cpu.upload(&g), &mut cm, &mut cv);
        }
        same(
            &format!("{name} parameters after 10 steps"),
            &d.download(&gp),
            &cp,
        );
        same(&format!("{name} first moment"), &d.download(&gm), &cm);
    }
    let mut bad = noise(n, 105);
    assert!(d.all_finite(&d.upload(&bad)));
    bad[4321] = f32::NAN;
    assert!(!d.all_finite(&d.upload(&bad)));
    bad[4321] = f32::INFINITY;
    assert!(!d.all_finite(&d.upload(&bad)));
    let (good, bad) = (d.upload(&noise(n, 106)), d.upload(&bad));
    assert_eq!(d.first_non_finite(&[&good, &bad, &good, &bad]), Some(1));
    assert_eq!(d.first_non_finite(&[&good, &good]), None);
    d.synchronize();
    assert_eq!(d.failure(), None);
}
