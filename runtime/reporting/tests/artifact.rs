//! The artifact: its interpreter (the `rrae-artifact` crate, no dfdx) agrees with the
//! runtime's forward pass on every `models/` variant that trains, and damaged files
//! are errors, never panics.

use rrae_artifact::{Mapped, Rng, View};
use rrae_engine::model::Model;
use rrae_report::eval::{Evaluator, Metrics};
use rrae_train::data::Dataset;
use rrae_train::train::{coefficients, Trainer};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Trains `ir` for a few steps and returns the trainer and its artifact's bytes.
fn trained(ir: &rrae_lang::Ir, source: &str) -> (Trainer<'static>, Vec<u8>) {
    let data: &'static Dataset =
        Box::leak(Box::new(Dataset::load(ir.data.as_ref().unwrap()).unwrap())); // ok: test
    let model = Model::lower(ir, ir.train.seed).unwrap(); // ok: test
    let mut t = Trainer::new(model, data, false);
    t.run(&mut |_: &rrae_train::schedule::Event| {}).unwrap(); // ok: test
    let l = t.model.latent_dim();
    let y = t.encode_all(&data.train).unwrap(); // ok: test
    let basis = t
        .basis
        .clone()
        .unwrap_or_else(|| nalgebra::DMatrix::identity(l, l));
    let c = coefficients(&y, l, &basis);
    let metrics = Metrics::default();
    let art = rrae_report::artifact::build(
        &t,
        &rrae_report::artifact::Summary {
            source,
            metrics: &metrics,
            coefficients: &c,
            wall_seconds: 1.0,
        },
    );
    let bytes = rrae_report::artifact::to_bytes(&art).unwrap(); // ok: test
    (t, bytes)
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den.max(1e-300)).sqrt()
}

fn check_parity(name: &str, t: &Trainer, bytes: &[u8]) {
    let file = Mapped::from_bytes(bytes);
    let v = file.view().unwrap_or_else(|e| panic!("{name}: {e}"));
    let d = t.data;
    let ev = Evaluator {
        t,
        cfg: t.model.ir.eval.clone(),
    };
    let rows = &d.test[..3 * d.dim];
    let want = ev.reconstruct(rows).unwrap(); // ok: test
    let latents = t.encode_all(rows).unwrap(); // ok: test
    let l = t.model.latent_dim();
    for s in 0..3 {
        let x: Vec<f32> = rows[s * d.dim..(s + 1) * d.dim]
            .iter()
            .map(|&v| d.norm.invert(v as f64) as f32)
            .collect();
        let y: Vec<f64> = v.latent(&x).unwrap().iter().map(|&v| v as f64).collect();
        let y_rt: Vec<f64> = latents[s * l..(s + 1) * l]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let e = rel(&y, &y_rt);
        assert!(e < 1e-5, "{name}: encoder output differs by {e:.2e}");
        let got: Vec<f64> = v
            .reconstruct(&x)
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect();
        let e = rel(&got, &want[s * d.dim..(s + 1) * d.dim]);
        assert!(e < 1e-5, "{name}: reconstruction differs by {e:.2e}");
        if s == 0 {
            eprintln!("{name}: reconstruction agrees to {e:.1e} (relative L2)");
        }
    }
    // Sampling and interpolation give finite samples of the right size.
    let mut rng = Rng::new(1);
    for s in v.sample(3, &mut rng).unwrap() {
        assert_eq!(s.len(), d.dim);
        assert!(s.iter().all(|v| v.is_finite()));
    }
    let ex = &v.artifact().examples;
    let a: Vec<f32> = ex[..d.dim].iter().map(|v| v.to_native()).collect();
    let b: Vec<f32> = ex[d.dim..2 * d.dim].iter().map(|v| v.to_native()).collect();
    assert_eq!(v.interpolate(&a, &b, 4).unwrap().len(), 4);
}

/// `src` trained for 2 steps and 1 of fine-tuning, its artifact checked against the
/// runtime; false where the runtime does not train its operator yet.
fn parity_after_two_steps(name: &str, src: &str) -> bool {
    let c = rrae_lang::check_str(name, src);
    let mut ir = c.result.unwrap(); // ok: every shipped model checks (tests/cli.rs)
    if Model::lower(&ir, 0).is_err() {
        return false;
    }
    rrae_report::run::set_steps(&mut ir, 2);
    ir.train.fine_tune_steps = 1;
    let (t, bytes) = trained(&ir, src);
    check_parity(name, &t, &bytes);
    true
}

/// A VRRAE's trained mean map reaches the artifact folded with U_f into one linear layer
/// after the encoder (`mean = trainable`), which the interpreter runs as any other.
#[test]
fn the_interpreter_runs_a_trainable_vrrae_mean_folded_with_u_f() {
    let src = std::fs::read_to_string(root().join("models/vrrae.rrae")).unwrap();
    let mapped = src.replace("beta = 0.001)", "beta = 0.001, mean = trainable)");
    assert_ne!(mapped, src);
    assert!(parity_after_two_steps("vrrae_trainable", &mapped));
}

#[test]
fn the_interpreter_matches_the_runtime_on_every_model_that_trains() {
    let mut trained_models = vec![];
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rrae"))
        .collect();
    files.sort();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        if parity_after_two_steps(&name, &src) {
            trained_models.push(name);
        }
    }
    for want in ["rrae", "arrae", "long", "diabolo"] {
        assert!(
            trained_models.iter().any(|n| n == want),
            "{trained_models:?}"
        );
    }
}

const TINY: &str = "data bumps = gaussian_bumps(grid = 12, train_per_axis = 4, test = 4, sigma = 0.2)
model tiny {
    input [1, 12, 12]
    encoder { conv2d(3, 3, stride = 2, padding = 1) leaky_relu(0.1) flatten linear(6) }
    latent svd_truncate(k = 2)
    decoder { linear(3 * 6 * 6) tanh reshape([3, 6, 6]) conv_transpose2d(2, 3, stride = 2, padding = 1, output_padding = 1) sigmoid conv2d(1, 1) }
}
train { steps = 4 fine_tune_steps = 2 batch = 8 }
";

fn tiny() -> (Trainer<'static>, Vec<u8>) {
    let c = rrae_lang::check_with("tiny.rrae", TINY, &rrae_lang::MemLoader::default());
    let ir = c.result.unwrap(); // ok: fixed input
    trained(&ir, TINY)
}

#[test]
fn every_op_of_a_small_model_matches_and_the_file_is_described() {
    let (t, bytes) = tiny();
    check_parity("tiny", &t, &bytes);
    let file = Mapped::from_bytes(&bytes);
    let v = file.view().unwrap();
    let a = v.artifact();
    assert_eq!(a.name.as_str(), "tiny");
    assert_eq!(a.source_hash.to_native(), rrae_artifact::source_hash(TINY));
    assert_eq!(v.k(), 2);
    assert_eq!(v.input_len(), 144);
    assert_eq!(a.training.fine_tune_steps.to_native(), 2);
    assert!(a.ir.as_str().contains("svd_truncate(k=2)"));
    // The owned copy round-trips.
    let owned = v.to_owned().unwrap();
    assert_eq!(rrae_artifact::encode_file(&owned).unwrap(), bytes);
    assert_eq!(rrae_artifact::from_bytes(file.bytes()).unwrap(), owned);
}

/// 100 000 damaged files: truncated, bit-flipped, overwritten, wrong version, foreign.
/// None may panic, and the checksum must refuse every one whose bytes changed (the
/// checksum covers every byte: there is no exception). The structure-only open
/// (`open_unverified`) must not panic either, and what it accepts must run.
#[test]
fn damaged_artifacts_are_errors_never_panics() {
    use rand::{Rng as _, SeedableRng};
    let (_, good) = tiny();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (mut errors, mut unchanged, mut structure_ok) = (0, 0, 0);
    let runs = |v: View, case: u64| {
        let x = vec![0.5f32; v.input_len()];
        let _ = v.reconstruct(&x);
        let _ = v.sample(1, &mut Rng::new(case));
    };
    for case in 0..100_000u64 {
        let mut b = good.clone();
        match case % 6 {
            0 => b.truncate(rng.gen_range(0..good.len())),
            1 => {
                for _ in 0..rng.gen_range(1..8) {
                    let i = rng.gen_range(0..b.len());
                    b[i] ^= 1 << rng.gen_range(0..8);
                }
            }
            2 => {
                let at = rng.gen_range(0..b.len());
                let n = rng.gen_range(1..64).min(b.len() - at);
                for v in &mut b[at..at + n] {
                    *v = rng.gen();
                }
            }
            3 => b[8..12].copy_from_slice(&rng.gen_range(3u32..u32::MAX).to_le_bytes()),
            4 => {
                let n = rng.gen_range(0..4096);
                b = (0..n).map(|_| rng.gen()).collect();
            }
            _ => {
                // A valid header on foreign bytes.
                let n = rng.gen_range(0..4096);
                b.truncate(rrae_artifact::HEADER_LEN);
                b.extend((0..n).map(|_| rng.gen::<u8>()));
            }
        }
        let file = Mapped::from_bytes(&b);
        let outcome = std::panic::catch_unwind(|| {
            let verified = View::open(file.bytes()).map(|v| runs(v, case)).is_ok();
            let structure = View::open_unverified(file.bytes())
                .map(|v| runs(v, case))
                .is_ok();
            (verified, structure)
        });
        let (verified, structure) = match outcome {
            Ok(o) => o,
            Err(_) => panic!("case {case} (kind {}) panicked", case % 6),
        };
        if verified {
            assert_eq!(
                b,
                good,
                "case {case} (kind {}): changed bytes were accepted",
                case % 6
            );
            unchanged += 1;
        } else {
            errors += 1;
        }
        structure_ok += usize::from(structure);
    }
    eprintln!(
        "{errors} refused, {unchanged} unchanged and accepted; the structure-only open accepted {structure_ok}"
    );
    // Random overwrites can rewrite a byte with itself; everything else is refused.
    assert!(errors > 99_000, "{errors} refused");
}
