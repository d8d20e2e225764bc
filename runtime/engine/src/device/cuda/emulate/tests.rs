//! The emulated GPU code against the CPU's kernels (see the module's comment).

use super::*;
use crate::device::cuda::parity::{conv_geometries, noise, same, transposed_geometries};
use crate::device::{Cpu, Device};
use crate::ops::activation::{Activation, ActivationKernel};
use crate::ops::conv2d::cuda as conv;
use crate::ops::conv2d::Conv2dKernel;
use crate::ops::conv_transpose2d::ConvTranspose2dKernel;
use crate::ops::linear::BiasKernel;
use crate::optim::{update_slices, Update};

#[test]
fn the_cublas_configurations_give_row_major_products() {
    let (m, k, n) = (5, 7, 3);
    for (ta, tb) in [
        (Tr::No, Tr::No),
        (Tr::Yes, Tr::No),
        (Tr::No, Tr::Yes),
        (Tr::Yes, Tr::Yes),
    ] {
        let (a, b, c0) = (noise(m * k, 1), noise(k * n, 2), noise(m * n, 3));
        let want = row_major((m, k, n), &a, ta, &b, tb);
        let mut c = c0.clone();
        sgemm(&gemm_config((m, k, n), ta, tb, false), &b, &a, &mut c);
        same(&format!("sgemm {ta:?} {tb:?}"), &c, &want);
        let mut c = c0.clone();
        sgemm(&gemm_config((m, k, n), ta, tb, true), &b, &a, &mut c);
        let sum: Vec<f32> = want.iter().zip(&c0).map(|(w, c)| w + c).collect();
        same(&format!("sgemm {ta:?} {tb:?} accumulating"), &c, &sum);
        // Three products, `a` shared (stride 0) as the convolutions share W.
        let bs = noise(3 * k * n, 4);
        let mut cs = vec![0.0; 3 * m * n];
        Host.products(
            (m, k, n),
            (&a, ta, 0),
            (&bs, tb, k * n),
            (&mut cs, m * n),
            3,
        );
        for s in 0..3 {
            let want = row_major((m, k, n), &a, ta, &bs[s * k * n..(s + 1) * k * n], tb);
            same(
                &format!("batched {ta:?} {tb:?} #{s}"),
                &cs[s * m * n..(s + 1) * m * n],
                &want,
            );
        }
    }
}

#[test]
fn the_gpu_convolutions_match_the_cpu() {
    let batch = 3;
    for (i, (geo, cout)) in conv_geometries().into_iter().enumerate() {
        for (bias, epi) in [(true, Epilogue::Relu), (false, Epilogue::None)] {
            let x = noise(batch * geo.big_len(), 10 + i as u64);
            let w = noise(cout * geo.col_rows(), 20 + i as u64);
            let (b, g) = (noise(cout, 30), noise(batch * cout * geo.col_cols(), 40));
            let (cx, cw, cb) = (Cpu.upload(&x), Cpu.upload(&w), Cpu.upload(&b));
            let (y, s) = conv::forward(&Host, &geo, cout, &x, &w, bias.then_some(&b), epi, true);
            let (cy, cs) = Cpu.conv2d_forward(&geo, cout, &cx, &cw, bias.then_some(&cb), epi, true);
            let tag = format!("emulated conv2d #{i} bias={bias} {epi:?}");
            same(&format!("{tag} forward"), &y, &cy);
            let (dx, dw, db) = conv::backward(&Host, (&geo, cout), &s, &x, &w, g.clone());
            let (cdx, cdw, cdb) = Cpu.conv2d_backward(&geo, cout, &cs, &cx, &cw, Cpu.upload(&g));
            same(&format!("{tag} ∂x"), &dx, &cdx);
            same(&format!("{tag} ∂W"), &dw, &cdw);
            same(&format!("{tag} ∂b"), &db, &cdb);
        }
    }
    for (i, (geo, cin)) in transposed_geometries().into_iter().enumerate() {
        let (bias, epi) = (i % 2 == 0, [Epilogue::Relu, Epilogue::None][i % 2]);
        let x = noise(batch * cin * geo.col_cols(), 50 + i as u64);
        let w = noise(cin * geo.col_rows(), 60 + i as u64);
        let (b, g) = (noise(geo.channels, 70), noise(batch * geo.big_len(), 80));
        let (cx, cw, cb) = (Cpu.upload(&x), Cpu.upload(&w), Cpu.upload(&b));
        let bo = bias.then_some(&b);
        let (y, s) = conv::transposed_forward(&Host, &geo, cin, &x, &w, bo, epi, true);
        let (cy, cs) =
            Cpu.conv_transpose2d_forward(&geo, cin, &cx, &cw, bias.then_some(&cb), epi, true);
        let tag = format!("emulated conv_transpose2d #{i} bias={bias} {epi:?}");
        same(&format!("{tag} forward"), &y, &cy);
        let (dx, dw, db) = conv::transposed_backward(&Host, (&geo, cin), &s, &x, &w, g.clone());
        let (cdx, cdw, cdb) =
            Cpu.conv_transpose2d_backward(&geo, cin, &cs, &cx, &cw, Cpu.upload(&g));
        same(&format!("{tag} ∂x"), &dx, &cdx);
        same(&format!("{tag} ∂W"), &dw, &cdw);
        same(&format!("{tag} ∂b"), &db, &cdb);
    }
}

#[test]
fn the_element_kernels_match_the_cpu() {
    let n = 1000;
    let (a, b) = (noise(n, 1), noise(n, 2));
    let mut out = vec![f32::NAN; n];
    let add: unsafe extern "C" fn(*mut f32, *const f32, *const f32, i64) = kernel("add_f32");
    unsafe { add(out.as_mut_ptr(), a.as_ptr(), b.as_ptr(), n as i64) };
    let want: Vec<f32> = a.iter().zip(&b).map(|(a, b)| a + b).collect();
    assert_eq!(out, want);
    let (rows, cols) = (20, 50);
    let (y, bias) = (noise(rows * cols, 3), noise(cols, 4));
    let mut gy = y.clone();
    let add_bias: unsafe extern "C" fn(*mut f32, *const f32, i64, i64) = kernel("add_bias_f32");
    unsafe {
        add_bias(
            gy.as_mut_ptr(),
            bias.as_ptr(),
            cols as i64,
            (rows * cols) as i64,
        )
    };
    let mut cy = Cpu.upload(&y);
    Cpu.add_bias(&mut cy, &Cpu.upload(&bias), cols);
    same("emulated bias forward", &gy, &cy);
    let mut db = vec![f32::NAN; cols];
    let grad: unsafe extern "C" fn(*mut f32, *const f32, i64, i64) = kernel("bias_grad_f32");
    unsafe { grad(db.as_mut_ptr(), y.as_ptr(), rows as i64, cols as i64) };
    assert_eq!(
        db,
        Cpu.bias_grad(&Cpu.upload(&y), rows, cols).to_vec(),
        "same order, same bits"
    );
    type Fwd = unsafe extern "C" fn(*mut f32, *const f32, i32, f32, i64);
    type Bwd = unsafe extern "C" fn(*mut f32, *const f32, *const f32, *const f32, i32, f32, i64);
    let (fwd, bwd): (Fwd, Bwd) = (kernel("act_forward_f32"), kernel("act_backward_f32"));
    let x: Vec<f32> = noise(n, 5).iter().map(|v| 4.0 * v).collect();
    let g = noise(n, 6);
    let acts = [
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::LeakyRelu(0.2),
    ];
    for (kind, a) in acts.into_iter().enumerate() {
        let slope = if let Activation::LeakyRelu(s) = a {
            s as f32
        } else {
            0.0
        };
        let (mut y, mut dx) = (vec![f32::NAN; n], vec![f32::NAN; n]);
        unsafe { fwd(y.as_mut_ptr(), x.as_ptr(), kind as i32, slope, n as i64) };
        let cy = Cpu.activation_forward(a, &Cpu.upload(&x));
        same(&format!("emulated {a:?} forward"), &y, &cy);
        unsafe {
            bwd(
                dx.as_mut_ptr(),
                x.as_ptr(),
                y.as_ptr(),
                g.as_ptr(),
                kind as i32,
                slope,
                n as i64,
            )
        };
        let cdx = Cpu.activation_backward(a, &Cpu.upload(&x), &cy, &Cpu.upload(&g));
        same(&format!("emulated {a:?} backward"), &dx, &cdx);
    }
}

#[test]
fn the_loss_and_optimiser_kernels_match_the_cpu() {
    let n = 4096;
    let (p, t) = (noise(n, 7), noise(n, 8));
    let mut d = vec![f64::NAN; n];
    let residual: unsafe extern "C" fn(*mut f64, *const f32, *const f32, i64) =
        kernel("residual_f64");
    unsafe { residual(d.as_mut_ptr(), p.as_ptr(), t.as_ptr(), n as i64) };
    let mut partial = [0.0f64];
    let sums: unsafe extern "C" fn(*mut f64, *const f64, *const f32, i64) = kernel("sum_squares");
    unsafe { sums(partial.as_mut_ptr(), d.as_ptr(), std::ptr::null(), n as i64) };
    let want: f64 = p
        .iter()
        .zip(&t)
        .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
        .sum();
    assert!(
        (partial[0] - want).abs() <= 1e-12 * want,
        "{} vs {want}",
        partial[0]
    );
    unsafe { sums(partial.as_mut_ptr(), std::ptr::null(), t.as_ptr(), n as i64) };
    let want: f64 = t.iter().map(|v| (*v as f64).powi(2)).sum();
    assert!(
        (partial[0] - want).abs() <= 1e-12 * want,
        "{} vs {want}",
        partial[0]
    );

    type Adam = unsafe extern "C" fn(
        *mut f32,
        *const f32,
        *mut f32,
        *mut f32,
        f32,
        f32,
        f32,
        f32,
        f32,
        i64,
    );
    type Belief = unsafe extern "C" fn(
        *mut f32,
        *const f32,
        *mut f32,
        *mut f32,
        f32,
        f32,
        f32,
        f32,
        f32,
        f32,
        i64,
    );
    type Sgd = unsafe extern "C" fn(*mut f32, *const f32, *mut f32, f32, f32, i32, i64);
    let (adam, belief, sgd): (Adam, Belief, Sgd) = (
        kernel("adam_f32"),
        kernel("adabelief_f32"),
        kernel("sgd_f32"),
    );
    let updates = [
        Update::Adam {
            b1: 0.9,
            b2: 0.999,
            step: 1e-3,
            c2s: 0.03,
            eps: 1e-8,
        },
        Update::AdaBelief {
            b1: 0.9,
            b2: 0.99,
            step: 1e-3,
            c2s: 0.1,
            eps: 1e-8,
            eps_root: 1e-12,
        },
        Update::Sgd {
            mu: 0.9,
            lr: 1e-2,
            first: true,
        },
        Update::Sgd {
            mu: 0.9,
            lr: 1e-2,
            first: false,
        },
    ];
    for u in updates {
        let (mut gp, mut gm, mut gv) = (noise(n, 9), noise(n, 10), noise(n, 11));
        gv.iter_mut().for_each(|v| *v = v.abs());
        let (mut cp, mut cm, mut cv) = (gp.clone(), gm.clone(), gv.clone());
        let g = noise(n, 12);
        let len = n as i64;
        let (p, m, v) = (gp.as_mut_ptr(), gm.as_mut_ptr(), gv.as_mut_ptr());
        match u {
            Update::Adam {
                b1,
                b2,
                step,
                c2s,
                eps,
            } => unsafe { adam(p, g.as_ptr(), m, v, b1, b2, step, c2s, eps, len) },
            Update::AdaBelief {
                b1,
                b2,
                step,
                c2s,
                eps,
                eps_root,
            } => unsafe { belief(p, g.as_ptr(), m, v, b1, b2, step, c2s, eps, eps_root, len) },
            Update::Sgd { mu, lr, first } => unsafe {
                sgd(p, g.as_ptr(), m, mu, lr, first as i32, len)
            },
        }
        update_slices(u, &mut cp, &g, &mut cm, &mut cv);
        // The CPU's loops in the same order: the same bits, but for fused multiply-adds.
        same(&format!("emulated {u:?} parameters"), &gp, &cp);
        same(&format!("emulated {u:?} first moment"), &gm, &cm);
        same(&format!("emulated {u:?} second moment"), &gv, &cv);
    }
    let count: unsafe extern "C" fn(*mut u32, *const f32, i64) = kernel("count_non_finite");
    let mut x = noise(n, 13);
    x[7] = f32::NAN;
    x[9] = f32::NEG_INFINITY;
    let mut c = [0u32];
    unsafe { count(c.as_mut_ptr(), x.as_ptr(), n as i64) };
    assert_eq!(c[0], 2);
}
