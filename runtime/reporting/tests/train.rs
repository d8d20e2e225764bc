//! End-to-end training on small models: the loss falls, the latent has rank k,
//! fine-tuning leaves the encoder untouched, runs are deterministic, NaN is reported.

use rrae_engine::model::Model;
use rrae_engine::EngineError;
use rrae_report::eval::Evaluator;
use rrae_train::data::Dataset;
use rrae_train::train::{Phase, Trainer};
use rrae_train::TrainError;

fn ir(latent: &str, train: &str) -> rrae_lang::Ir {
    let src = format!(
        "data bumps = gaussian_bumps(grid = 16, train_per_axis = 6, test = 10, sigma = 0.2)
model small {{
    input [1, 16, 16]
    encoder {{ conv2d(8, 3, stride = 2, padding = 1) relu flatten linear(16) }}
    latent {latent}
    decoder {{ linear(8 * 8 * 8) reshape([8, 8, 8]) conv_transpose2d(8, 3, stride = 2, padding = 1, output_padding = 1) relu conv2d(1, 1) }}
}}
train {{ {train} }}
eval {{ interpolation_pairs = 5 random_samples = 10 }}"
    );
    let c = rrae_lang::check_with("small.rrae", &src, &rrae_lang::MemLoader::default());
    match c.result {
        Ok(ir) => ir,
        Err(_) => panic!("{}", c.render_error().unwrap_or_default()), // ok: test input is fixed
    }
}

fn train(ir: &rrae_lang::Ir) -> (Trainer<'static>, Result<(), TrainError>) {
    let data: &'static Dataset =
        Box::leak(Box::new(Dataset::load(ir.data.as_ref().unwrap()).unwrap())); // ok: test
    let model = Model::lower(ir, ir.train.seed).unwrap(); // ok: test
    let mut t = Trainer::new(model, data, false);
    let r = t.run(&mut |_| {});
    (t, r)
}

fn losses(t: &Trainer, phase: Phase) -> Vec<f64> {
    t.log
        .iter()
        .filter(|s| s.phase == phase)
        .map(|s| s.loss)
        .collect()
}

#[test]
fn rrae_trains_to_rank_k_and_fine_tuning_freezes_the_encoder() {
    let ir = ir(
        "svd_truncate(k = 2)",
        "steps = 300 fine_tune_steps = 60 batch = 12 lr = 2e-3 seed = 3",
    );
    let data = Dataset::load(ir.data.as_ref().unwrap()).unwrap(); // ok: test
    let model = Model::lower(&ir, 3).unwrap(); // ok: test
    let mut t = Trainer::new(model, &data, false);
    // Train only, then snapshot the encoder, then the rest.
    t.run(&mut |_| {}).unwrap(); // ok: test
    let l = losses(&t, Phase::Train);
    let head: f64 = l[..20].iter().sum::<f64>() / 20.0;
    let tail: f64 = l[l.len() - 20..].iter().sum::<f64>() / 20.0;
    assert!(tail < 0.6 * head, "loss {head:.1} → {tail:.1}");
    assert_eq!(losses(&t, Phase::FineTune).len(), 60);

    let basis = t.basis.clone().unwrap(); // ok: RRAE always has a basis
    assert_eq!(basis.shape(), (16, 2));
    let gram = basis.transpose() * &basis;
    assert!((gram - nalgebra::DMatrix::identity(2, 2)).abs().max() < 1e-9);

    let (m, _) = Evaluator {
        t: &t,
        cfg: ir.eval.clone(),
    }
    .run(0)
    .unwrap(); // ok: test
    assert_eq!(m.latent_rank, 2, "{:?}", &m.singular_values_latent[..4]);
    assert!(m.singular_values_latent[2] < 1e-6);
    assert!(
        m.train_error < 60.0 && m.train_error > 0.0,
        "{}",
        m.train_error
    );
    assert!(m.interpolation_error.is_some() && m.sampling_bump_fit.is_some());
}

#[test]
fn fine_tuning_changes_only_the_decoder() {
    let ir = ir(
        "svd_truncate(k = 2)",
        "steps = 20 fine_tune_steps = 0 batch = 12 seed = 1",
    );
    let (mut t, r) = train(&ir);
    r.unwrap(); // ok: test
    let before = t.model.params.clone();
    t.model.ir.train.fine_tune_steps = 10;
    t.model.ir.train.steps = 0;
    t.run(&mut |_| {}).unwrap(); // ok: test
    for (a, b) in before.params.iter().zip(&t.model.params.params) {
        let changed = a.data != b.data;
        assert_eq!(changed, b.name.starts_with("decoder"), "{}", b.name);
        assert!(!b.frozen);
    }
}

#[test]
fn same_seed_same_losses_other_seed_other_losses() {
    let a = train(&ir(
        "svd_truncate(k = 2)",
        "steps = 8 fine_tune_steps = 2 batch = 12 seed = 5",
    ))
    .0;
    let b = train(&ir(
        "svd_truncate(k = 2)",
        "steps = 8 fine_tune_steps = 2 batch = 12 seed = 5",
    ))
    .0;
    let c = train(&ir(
        "svd_truncate(k = 2)",
        "steps = 8 fine_tune_steps = 2 batch = 12 seed = 6",
    ))
    .0;
    let la: Vec<f64> = a.log.iter().map(|s| s.loss).collect();
    let lb: Vec<f64> = b.log.iter().map(|s| s.loss).collect();
    let lc: Vec<f64> = c.log.iter().map(|s| s.loss).collect();
    assert_eq!(la, lb);
    assert_ne!(la, lc);
}

#[test]
fn identity_latent_trains_without_a_basis() {
    let (t, r) = train(&ir(
        "identity",
        "steps = 30 fine_tune_steps = 10 batch = 12 seed = 2",
    ));
    r.unwrap(); // ok: test
    assert!(t.basis.is_none());
    assert_eq!(losses(&t, Phase::FineTune).len(), 0);
    let l = losses(&t, Phase::Train);
    assert!(l[l.len() - 1] < l[0]);
}

#[test]
fn a_diverging_run_stops_with_a_nan_error_and_keeps_its_log() {
    let (t, r) = train(&ir(
        "identity",
        "steps = 50 batch = 12 lr = 1e30 optimizer = sgd seed = 2",
    ));
    match r {
        Err(TrainError::NonFinite { phase, step, .. }) => {
            assert_eq!(phase, "train");
            assert_eq!(t.log.len(), step, "every good step is logged");
        }
        other => panic!("expected a NaN error, got {other:?}"), // ok: test
    }
}

/// Lowering registers exactly the parameters the checker counted, for every zoo model
/// (an unsupported one would fail with `Unsupported`, never a panic).
#[test]
fn lowering_matches_the_checkers_parameter_counts_across_the_zoo() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let mut lowered = 0;
    let files = ["", "mnist", "fashion_mnist"].into_iter().flat_map(|sub| {
        std::fs::read_dir(root.join(sub))
            .unwrap() // ok: test
            .map(|e| e.unwrap().path()) // ok: test
            .filter(|p| p.extension().is_some_and(|e| e == "rrae"))
    });
    let mut seen = 0;
    for path in files {
        seen += 1;
        let text = std::fs::read_to_string(&path).unwrap(); // ok: test
        let ir = rrae_lang::check_str(&path.to_string_lossy(), &text)
            .result
            .unwrap(); // ok: zoo checks
        match Model::lower(&ir, 0) {
            Ok(m) => {
                assert_eq!(m.params.count(), ir.total_params(), "{}", path.display());
                lowered += 1;
            }
            Err(EngineError::Unsupported { .. }) => {}
            Err(e) => panic!("{}: {e}", path.display()), // ok: test
        }
    }
    // Every file of both zoos lowers (16 in models/, 10 in each image zoo).
    assert_eq!((lowered, seen), (36, 36));
}

#[test]
fn irmae_trains_its_bias_free_linear_stack_inside_the_encoder() {
    let ir = ir(
        "linear_stack(l = 2)",
        "steps = 150 batch = 12 lr = 2e-3 seed = 4",
    );
    let before = Model::lower(&ir, 4).unwrap(); // ok: test
    let (t, r) = train(&ir);
    r.unwrap(); // ok: test
    for name in ["latent.0.weight", "latent.1.weight"] {
        let (a, b) = (
            before.params.get(name).unwrap(),
            t.model.params.get(name).unwrap(),
        ); // ok: test
        assert_eq!(a.shape, vec![16, 16]);
        assert_ne!(a.data, b.data, "{name} did not train");
    }
    assert!(t.model.params.get("latent.0.bias").is_none());
    assert!(t.basis.is_none());
    let l = losses(&t, Phase::Train);
    let (head, tail) = (
        l[..10].iter().sum::<f64>(),
        l[l.len() - 10..].iter().sum::<f64>(),
    );
    assert!(tail < 0.7 * head, "{head} → {tail}");
}

#[test]
fn fixed_basis_projects_on_a_seeded_orthonormal_basis_that_never_trains() {
    let ir = ir(
        "fixed_basis(k = 3, seed = 11)",
        "steps = 60 batch = 12 seed = 2",
    );
    let (t, r) = train(&ir);
    r.unwrap(); // ok: test
    let u = t.basis.clone().unwrap(); // ok: fixed_basis has a basis
    assert_eq!(u.shape(), (16, 3));
    assert!(
        (u.transpose() * &u - nalgebra::DMatrix::identity(3, 3))
            .abs()
            .max()
            < 1e-12
    );
    // The same seed draws the same basis; another seed another one.
    assert_eq!(
        u,
        rrae_engine::latent::fixed_basis::random_orthonormal(16, 3, 11)
    );
    assert!(
        (u.clone() - rrae_engine::latent::fixed_basis::random_orthonormal(16, 3, 12))
            .abs()
            .max()
            > 1e-3
    );
    let (m, _) = Evaluator {
        t: &t,
        cfg: ir.eval.clone(),
    }
    .run(0)
    .unwrap(); // ok: test
    assert_eq!(m.latent_rank, 3, "{:?}", &m.singular_values_latent[..5]);
}

/// Encoder outputs of the training set (the bottleneck for sigmoid latents).
fn bottleneck(t: &Trainer) -> Vec<f32> {
    t.encode_all(&t.data.train).unwrap() // ok: test
}

#[test]
fn sparse_ae_pulls_the_mean_sigmoid_activation_towards_rho() {
    let run = |beta: &str| {
        let ir = ir(
            &format!("sigmoid_sparse(rho = 0.05, beta = {beta})"),
            "steps = 120 batch = 12 lr = 3e-3 seed = 5",
        );
        let (t, r) = train(&ir);
        r.unwrap(); // ok: test
        let h = bottleneck(&t);
        assert!(
            h.iter().all(|&v| (0.0..=1.0).contains(&v)),
            "not a sigmoid latent"
        );
        h.iter().map(|&v| v as f64).sum::<f64>() / h.len() as f64
    };
    let (free, sparse) = (run("0.0"), run("50.0"));
    assert!(
        sparse < 0.6 * free && sparse < 0.2,
        "mean activation {free:.3} → {sparse:.3}"
    );
}

#[test]
fn contractive_penalty_shrinks_the_encoders_jacobian() {
    // ‖∂h/∂x‖² at the training samples, with h = σ(x W + b) the encoder's last layer.
    let jac = |beta: &str| {
        let ir = ir(
            &format!("contractive(beta = {beta})"),
            "steps = 120 batch = 12 lr = 3e-3 seed = 6",
        );
        let (t, r) = train(&ir);
        r.unwrap(); // ok: test
        let rrae_engine::model::Latent::Contractive(rrae_engine::latent::contractive::State {
            w,
            ..
        }) = t.model.latent
        else {
            panic!("not a contractive latent"); // ok: test
        };
        let w = &t.model.params.params[w];
        let l = w.shape[1];
        let wsq: Vec<f64> = (0..l)
            .map(|j| {
                (0..w.shape[0])
                    .map(|i| (w.data[i * l + j] as f64).powi(2))
                    .sum()
            })
            .collect();
        let h = bottleneck(&t);
        h.iter()
            .enumerate()
            .map(|(i, &v)| ((v * (1.0 - v)) as f64).powi(2) * wsq[i % l])
            .sum::<f64>()
    };
    let (free, penalised) = (jac("0.0"), jac("50.0"));
    assert!(
        penalised < 0.5 * free,
        "Jacobian norm {free:.3e} → {penalised:.3e}"
    );
}

#[test]
fn weak_rrae_penalty_lowers_the_latent_tail_and_ends_with_a_common_basis() {
    let tail = |beta: &str| {
        let ir = ir(
            &format!("weak_svd(k = 2, beta = {beta})"),
            "steps = 150 fine_tune_steps = 10 batch = 12 lr = 2e-3 seed = 7",
        );
        let (t, r) = train(&ir);
        r.unwrap(); // ok: test
        assert_eq!(t.basis.as_ref().map(|b| b.shape()), Some((16, 2)));
        assert_eq!(losses(&t, Phase::FineTune).len(), 10);
        let (m, _) = Evaluator {
            t: &t,
            cfg: ir.eval.clone(),
        }
        .run(0)
        .unwrap(); // ok: test
        m.singular_values_encoder[2]
    };
    let (free, weak) = (tail("0.0"), tail("100.0"));
    assert!(
        weak < 0.5 * free,
        "σ3/σ1 of the encoder output {free:.3} → {weak:.3}"
    );
}

#[test]
fn learned_basis_trains_its_basis_and_projects_on_it_at_inference() {
    let ir = ir("learned_basis(k = 3)", "steps = 80 batch = 12 seed = 8");
    let before = Model::lower(&ir, 8).unwrap(); // ok: test
    let (t, r) = train(&ir);
    r.unwrap(); // ok: test
    let (a, b) = (
        before.params.get("latent.basis.weight").unwrap(), // ok: test
        t.model.params.get("latent.basis.weight").unwrap(), // ok: test
    );
    assert_eq!(b.shape, vec![16, 3]);
    assert_ne!(a.data, b.data, "the basis did not train");
    let u = t.basis.clone().unwrap(); // ok: set at the end of training
    for c in u.column_iter() {
        assert!((c.norm() - 1.0).abs() < 1e-9);
    }
    let (m, _) = Evaluator {
        t: &t,
        cfg: ir.eval.clone(),
    }
    .run(0)
    .unwrap(); // ok: test
    assert_eq!(m.latent_rank, 3, "{:?}", &m.singular_values_latent[..5]);
}

/// 20 000 damaged checkpoints (truncated, bit-flipped, overwritten): none panics, and
/// none reads back as anything but the checkpoint that was written: the checksum
/// covers the state and every tensor, so a run cannot resume from altered weights,
/// moments or history.
#[test]
fn damaged_checkpoints_are_refused_or_read_back_identical() {
    use rand::{Rng as _, SeedableRng};
    use rrae_train::checkpoint::Checkpoint;
    let (t, r) = train(&ir(
        "svd_truncate(k = adaptive, patience = 4, window = 2)",
        "steps = 12 fine_tune_steps = 2 batch = 12 seed = 1",
    ));
    r.unwrap(); // ok: test
    let ck = Checkpoint::of(&t).unwrap(); // ok: the run started
    let good = ck.to_bytes().unwrap(); // ok: test
    let same = |c: &Checkpoint| {
        let opt = |a: &rrae_engine::optim::Optimizer, b: &rrae_engine::optim::Optimizer| {
            (a.t, &a.m, &a.v) == (b.t, &b.m, &b.v)
        };
        c.state == ck.state
            && c.params == ck.params
            && opt(&c.opt, &ck.opt)
            && match (&c.saved, &ck.saved) {
                (Some(a), Some(b)) => a.k == b.k && a.params == b.params && opt(&a.opt, &b.opt),
                (a, b) => a.is_none() && b.is_none(),
            }
    };
    assert!(same(&Checkpoint::from_bytes(&good).unwrap())); // ok: test
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut refused = 0;
    for case in 0..20_000u64 {
        let mut b = good.clone();
        match case % 3 {
            0 => b.truncate(rng.gen_range(0..good.len())),
            1 => {
                for _ in 0..rng.gen_range(1..8) {
                    let i = rng.gen_range(0..b.len());
                    b[i] ^= 1 << rng.gen_range(0..8);
                }
            }
            _ => {
                let at = rng.gen_range(0..b.len());
                let n = rng.gen_range(1..64).min(b.len() - at);
                for v in &mut b[at..at + n] {
                    *v = rng.gen();
                }
            }
        }
        match std::panic::catch_unwind(|| Checkpoint::from_bytes(&b)) {
            Err(_) => panic!("case {case} panicked"), // ok: test
            Ok(Err(_)) => refused += 1,
            Ok(Ok(c)) => assert!(
                same(&c),
                "case {case}: a damaged checkpoint read back different"
            ),
        }
    }
    assert!(refused > 19_000, "{refused} refused");
}

/// `vrrae(k = 2, mean = trainable)`: the trained mean map acts on the coefficients on
/// U_f at inference, as the library's `apply_basis` has it. The trainer folds it with U_f
/// into the inference encoder's last layer, so the inference latents (what fine-tuning,
/// evaluation and the artifact read) are U_f (W_k U_fᵀ y + b_k) of the encoder's own
/// outputs y, with U_f oriented as each batch's basis is in training, computed here from
/// the parameters by hand (seed 2 is a draw whose U_f needs a column flipped, so the
/// check fails without the orientation). The folded layer never trains.
#[test]
fn a_trainable_vrrae_mean_reaches_inference_through_u_f() {
    use nalgebra::{DMatrix, DVector};
    let ir = ir(
        "vrrae(k = 2, beta = 0.01, mean = trainable)",
        "steps = 60 fine_tune_steps = 10 batch = 12 lr = 2e-3 seed = 2",
    );
    let (mut t, r) = train(&ir);
    r.unwrap(); // ok: test
    let l = t.model.latent_dim();
    let u = t.basis.clone().unwrap(); // ok: a VRRAE has a common basis
    assert_eq!(u.shape(), (l, 2));
    let param = |name: &str| t.model.params.get(name).unwrap().clone(); // ok: test
    let (w, b) = (param("latent.mean.weight"), param("latent.mean.bias"));
    let folded = param("latent.mean_folded.weight");
    assert!(folded.frozen && param("latent.mean_folded.bias").frozen);
    assert_ne!(
        DMatrix::from_row_slice(l, l, &folded.data),
        DMatrix::<f32>::identity(l, l),
        "the layer was not folded"
    );
    let width = w.shape[0];
    let wk = DMatrix::from_fn(2, 2, |i, j| f64::from(w.data[i * width + j]));
    let bk = DVector::from_fn(2, |i, _| f64::from(b.data[i]));
    let x = &t.data.train[..5 * t.data.dim];
    let got = t.inference_latents(t.encode_all(x).unwrap()).unwrap(); // ok: test

    // The encoder's own outputs: the inference encoder without its folded layer.
    t.model.inference_encoder = t.model.encoder.clone();
    let y = t.encode_all(x).unwrap(); // ok: test

    // U_f oriented as training orients each batch's basis: each column flipped where
    // the training set's coefficients on it sum below 0.
    let all = t.encode_all(&t.data.train).unwrap(); // ok: test
    let total = DVector::from_fn(l, |j, _| {
        all.chunks(l).map(|r| f64::from(r[j])).sum::<f64>()
    });
    let mut u = u;
    for mut col in u.column_iter_mut() {
        if col.dot(&total) < 0.0 {
            col.neg_mut();
        }
    }
    for s in 0..5 {
        let row = y[s * l..(s + 1) * l].iter().map(|&v| f64::from(v));
        let ys = DVector::from_iterator(l, row);
        let want = &u * (wk.transpose() * (u.transpose() * ys) + &bk);
        for j in 0..l {
            let g = f64::from(got[s * l + j]);
            assert!(
                (g - want[j]).abs() < 1e-4 * (1.0 + want[j].abs()),
                "sample {s}, {j}: {g} vs {}",
                want[j]
            );
        }
    }
    let tuned = losses(&t, Phase::FineTune);
    assert_eq!(tuned.len(), 10);
    assert!(tuned.iter().all(|v| v.is_finite()));
}
