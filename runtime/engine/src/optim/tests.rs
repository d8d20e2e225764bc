use super::*;

/// One Adam step moves every coordinate by exactly lr against its gradient's
/// sign (m̂/√v̂ = ±1 at t = 1), as in PyTorch.
#[test]
fn first_adam_step_moves_by_lr() {
    let mut ps = ParamSet::default();
    ps.push("w".into(), vec![3], vec![1.0, 2.0, 3.0]);
    let mut opt = Optimizer::new(
        OptIr::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        &ps,
    );
    opt.step(&mut ps, &[vec![0.5, -2.0, 0.0]], 0.1);
    let want = [0.9, 2.1, 3.0];
    for (a, b) in ps.params[0].data.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

/// AdaBelief's first step: m̂ = g, ŝ = (0.9 g)² (+ eps_root), so the update is
/// lr / 0.9 against the sign of g (optax.adabelief gives the same).
#[test]
fn first_adabelief_step() {
    let mut ps = ParamSet::default();
    ps.push("w".into(), vec![2], vec![1.0, 1.0]);
    let kind = OptIr::AdaBelief {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-16,
        eps_root: 1e-16,
    };
    let mut opt = Optimizer::new(kind, &ps);
    opt.step(&mut ps, &[vec![2.0, -0.5]], 0.09);
    let want = [1.0 - 0.1, 1.0 + 0.1];
    for (a, b) in ps.params[0].data.iter().zip(want) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    for _ in 0..3000 {
        let g: Vec<f32> = ps.params[0].data.iter().map(|w| 2.0 * w).collect();
        opt.step(&mut ps, &[g], 0.01);
    }
    assert!(
        ps.params[0].data.iter().all(|w| w.abs() < 1e-2),
        "{:?}",
        ps.params[0].data
    );
}

/// Adam minimises a quadratic.
#[test]
fn adam_converges_on_a_quadratic() {
    let mut ps = ParamSet::default();
    ps.push("w".into(), vec![2], vec![5.0, -3.0]);
    let kind = OptIr::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    let mut opt = Optimizer::new(kind, &ps);
    for _ in 0..2000 {
        let g: Vec<f32> = ps.params[0].data.iter().map(|w| 2.0 * w).collect();
        opt.step(&mut ps, &[g], 0.05);
    }
    assert!(ps.params[0].data.iter().all(|w| w.abs() < 1e-2));
}

/// The update kernel on a device against closed forms: Adam's and AdaBelief's first
/// steps move each coordinate by `lr` (AdaBelief: `lr/0.9`) against its gradient's
/// sign, SGD's by `lr·g`; a later Adam step against the recurrence written out.
fn kernel_matches_closed_forms<D: OptimizerKernel>(dev: &D) {
    let p0 = [1.0f32, 2.0, 3.0, -4.0];
    let g = [0.5f32, -2.0, 0.25, 1.0];
    let run = |kind: OptIr, lr: f64, steps: usize| {
        let mut ps = ParamSet::default();
        ps.push("w".into(), vec![4], p0.to_vec());
        let mut opt = Optimizer::new(kind, &ps);
        let (mut p, gb) = (dev.upload(&p0), dev.upload(&g));
        let (mut m, mut v) = (dev.upload(&[0.0f32; 4]), dev.upload(&[0.0f32; 4]));
        for _ in 0..steps {
            let u = opt.next_update(lr);
            dev.optimizer_update(u, &mut p, &gb, &mut m, &mut v);
        }
        dev.download(&p)
    };
    let adam = OptIr::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    let sign = |x: f32| if x > 0.0 { 1.0 } else { -1.0 };
    for (i, p) in run(adam.clone(), 0.1, 1).iter().enumerate() {
        assert!(
            (p - (p0[i] - 0.1 * sign(g[i]))).abs() < 1e-6,
            "adam {i}: {p}"
        );
    }
    let belief = OptIr::AdaBelief {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-16,
        eps_root: 1e-16,
    };
    for (i, p) in run(belief, 0.09, 1).iter().enumerate() {
        assert!(
            (p - (p0[i] - 0.1 * sign(g[i]))).abs() < 1e-5,
            "adabelief {i}: {p}"
        );
    }
    for (i, p) in run(OptIr::Sgd { momentum: 0.9 }, 0.1, 2).iter().enumerate() {
        // m₁ = g, m₂ = 0.9 g + g: two steps move by 0.1·(1 + 1.9)·g.
        assert!((p - (p0[i] - 0.29 * g[i])).abs() < 1e-6, "sgd {i}: {p}");
    }
    // Three Adam steps with a constant gradient, in f64 from the definition.
    let mut want = p0.map(f64::from);
    let (mut m, mut v) = ([0.0f64; 4], [0.0f64; 4]);
    for t in 1..=3 {
        for j in 0..4 {
            let gj = g[j] as f64;
            m[j] = 0.9 * m[j] + 0.1 * gj;
            v[j] = 0.999 * v[j] + 0.001 * gj * gj;
            let (mh, vh) = (
                m[j] / (1.0 - 0.9f64.powi(t)),
                v[j] / (1.0 - 0.999f64.powi(t)),
            );
            want[j] -= 0.01 * mh / (vh.sqrt() + 1e-8);
        }
    }
    for (i, p) in run(adam, 0.01, 3).iter().enumerate() {
        assert!(
            (*p as f64 - want[i]).abs() < 1e-5,
            "adam×3 {i}: {p} vs {}",
            want[i]
        );
    }
    assert!(dev.all_finite(&dev.upload(&g)));
    assert!(!dev.all_finite(&dev.upload(&[1.0, f32::NAN])));
    assert!(!dev.all_finite(&dev.upload(&[f32::INFINITY])));
}
crate::device::matrix::test_device!(kernel_matches_closed_forms);

#[test]
fn the_first_non_finite_tensor_is_found() {
    use crate::device::{Cpu, Device};
    let ok = Cpu.upload(&[1.0f32, -2.0, 3.5]);
    let nan = Cpu.upload(&[0.0f32, f32::NAN]);
    let inf = Cpu.upload(&[f32::NEG_INFINITY]);
    assert_eq!(Cpu.first_non_finite(&[&ok, &ok]), None);
    assert_eq!(Cpu.first_non_finite(&[&ok, &nan, &inf]), Some(1));
    assert_eq!(Cpu.first_non_finite(&[&inf, &nan]), Some(0));
    assert_eq!(Cpu.first_non_finite(&[]), None);
}
