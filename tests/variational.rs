//! The variational family end to end, as a user runs it: `vae`, `vrrae` and `lorae`
//! train from one changed line of the tiny model; a variational artifact samples its
//! prior N(0, I), bit for bit `rrae decode` of the same ε; and a VAE run stopped and
//! resumed draws the same noise, so its loss trace is the uninterrupted one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "common/npy.rs"]
mod npy;
use npy::{npy_f32, npy_f64_values};

const TINY: &str = include_str!("fixtures/tiny.rrae");

fn rrae(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap_or_else(|e| panic!("rrae: {e}")) // ok: test
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The tiny model with its latent line replaced, written to a fresh folder.
fn tiny_with(name: &str, latent: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rrae-variational-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let src = TINY.replace("svd_truncate(k = 2)", latent);
    assert_ne!(src, TINY, "the fixture has no `svd_truncate(k = 2)` line");
    let f = dir.join(format!("{name}.rrae"));
    std::fs::write(&f, src).unwrap_or_else(|e| panic!("{e}")); // ok: test
    f
}

fn run(f: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", f.to_str().unwrap_or(""), "-q"];
    if !extra.contains(&"--resume") {
        args.extend(["--out", out.to_str().unwrap_or("")]);
    }
    args.extend(extra);
    rrae(&args)
}

/// (phase, step, k, loss) of every logged step: the trace, without wall times.
fn trace(dir: &Path) -> Vec<String> {
    let csv = std::fs::read_to_string(dir.join("losses.csv")).unwrap_or_else(|e| panic!("{e}")); // ok: test
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
        .collect()
}

#[test]
fn each_variational_operator_trains_from_one_line_of_the_tiny_model() {
    for (name, latent, fine_tunes) in [
        ("vae", "vae(beta = 0.01)", false),
        ("vrrae", "vrrae(k = 2, beta = 0.01)", true),
        (
            "vrrae_adaptive",
            "vrrae(k = adaptive, patience = 5, window = 5, beta = 0.01)",
            true,
        ),
        (
            "vrrae_trainable",
            "vrrae(k = 2, beta = 0.01, mean = trainable)",
            true,
        ),
        ("lorae", "lorae(lambda = 0.01)", false),
    ] {
        let f = tiny_with(name, latent);
        let dir = f.with_file_name("run");
        let out = run(&f, &dir, &[]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let t = trace(&dir);
        let trained = t.iter().filter(|l| l.starts_with("train,")).count();
        if name.ends_with("adaptive") {
            // The search lowers k from min(batch, L) = 8 and may stop itself early.
            let decisions =
                std::fs::read_to_string(dir.join("decisions.jsonl")).unwrap_or_default();
            assert!(decisions.contains("\"rank\":7"), "{name}: {decisions}");
            assert!((1..=40).contains(&trained), "{name}: {trained}");
        } else {
            assert_eq!(trained, 40, "{name}");
        }
        let tuned = t.iter().filter(|l| l.starts_with("fine_tune,")).count();
        assert_eq!(tuned, if fine_tunes { 10 } else { 0 }, "{name}: {t:?}");
        let losses: Vec<f64> = t
            .iter()
            .map(|l| {
                l.rsplit(',')
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN)
            })
            .collect();
        assert!(losses.iter().all(|v| v.is_finite()), "{name}: {losses:?}");
        assert!(dir.join("model.rra").is_file(), "{name}");
    }
}

/// `rrae sample` of a VAE and of a VRRAE decodes ε ~ N(0, I) itself: the artifact holds
/// mean 0 and covariance I, and its samples are `rrae decode` of the same draws.
#[test]
fn a_variational_artifact_samples_its_prior_bit_for_bit() {
    for (name, latent, k) in [
        ("vae_prior", "vae(beta = 0.01)", 8),
        ("vrrae_prior", "vrrae(k = 2)", 2),
    ] {
        let f = tiny_with(name, latent);
        let dir = f.with_file_name("run");
        let out = run(&f, &dir, &[]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let art = dir.join("model.rra");
        let m = rrae_artifact::Mapped::read(&art).unwrap_or_else(|e| panic!("{e}")); // ok: test
        let view = rrae_artifact::View::open(m.bytes()).unwrap_or_else(|e| panic!("{e}")); // ok: test
        assert_eq!(view.k(), k, "{name}");
        let a = view.artifact();
        assert!(
            a.coefficient_mean.iter().all(|m| m.to_native() == 0.0),
            "{name}"
        );
        for (i, c) in a.coefficient_cov.iter().enumerate() {
            let want = if i % (k + 1) == 0 { 1.0 } else { 0.0 };
            assert_eq!(c.to_native(), want, "{name}: cov[{i}]");
        }
        let mut rng = rrae_artifact::Rng::new(9);
        let eps: Vec<Vec<f32>> = (0..5)
            .map(|_| (0..k).map(|_| rng.normal() as f32).collect())
            .collect();
        let eps_file = dir.join("eps.npy");
        std::fs::write(&eps_file, npy_f32(&eps)).unwrap_or_else(|e| panic!("{e}")); // ok: test
        let (s, d) = (dir.join("sampled.npy"), dir.join("decoded.npy"));
        let a = art.to_str().unwrap_or("");
        let out = rrae(&[
            "sample",
            a,
            "-n",
            "5",
            "--seed",
            "9",
            "-o",
            s.to_str().unwrap_or(""),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = rrae(&[
            "decode",
            a,
            eps_file.to_str().unwrap_or(""),
            "-o",
            d.to_str().unwrap_or(""),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let (sv, dv) = (npy_f64_values(&s), npy_f64_values(&d));
        assert_eq!(sv.len(), 5 * 256);
        assert_eq!(
            sv, dv,
            "{name}: the samples are not the decoded prior draws"
        );
    }
}

/// `sample_prior = false` gives a VAE the fitted Gaussian every other latent samples: the
/// artifact holds the training coefficients' mean (and `rrae sample` draws around it), and
/// the training itself is the prior run's, loss for loss (the eval block trains nothing).
#[test]
fn a_vae_told_not_to_sample_its_prior_stores_the_fitted_gaussian() {
    let f = tiny_with("vae_fitted", "vae(beta = 0.01)");
    let (prior, fitted) = (f.with_file_name("prior"), f.with_file_name("fitted"));
    let out = run(&f, &prior, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&f, &fitted, &["--set", "eval.sample_prior=false"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(trace(&prior), trace(&fitted));
    let k = 8;
    let coefficients = npy_f64_values(&fitted.join("coefficients.npy"));
    assert_eq!(coefficients.len() % k, 0);
    let n = coefficients.len() / k;
    let m = rrae_artifact::Mapped::read(fitted.join("model.rra")).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let view = rrae_artifact::View::open(m.bytes()).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let stored: Vec<f64> = view
        .artifact()
        .coefficient_mean
        .iter()
        .map(|v| v.to_native())
        .collect();
    assert_eq!(stored.len(), k);
    for (j, got) in stored.iter().enumerate() {
        let want = (0..n).map(|i| coefficients[i * k + j]).sum::<f64>() / n as f64;
        assert!(
            (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
            "coefficient {j}: the artifact's mean {got}, the training coefficients' {want}"
        );
    }
    assert!(
        stored.iter().any(|&v| v != 0.0),
        "the prior's mean was stored"
    );
}

/// `f` run uninterrupted into `whole`, and into `parts` stopped after step `stop` and
/// resumed: the two folders.
fn whole_and_resumed(f: &Path, stop: &str) -> (PathBuf, PathBuf) {
    let (whole, parts) = (f.with_file_name("whole"), f.with_file_name("parts"));
    assert!(run(f, &whole, &[]).status.success());
    let out = run(f, &parts, &["--stop-after", stop]);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let out = run(f, &parts, &["--resume", parts.to_str().unwrap_or("")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (whole, parts)
}

/// ε is a function of the seed and the step: a VAE stopped at step 25 and resumed trains
/// as the uninterrupted run does, loss for loss.
#[test]
fn a_resumed_vae_draws_the_noise_of_the_uninterrupted_run() {
    let f = tiny_with("vae_resume", "vae(beta = 0.01)");
    let (whole, parts) = whole_and_resumed(&f, "25");
    assert_eq!(trace(&parts), trace(&whole));
    // A different seed draws different noise (and different weights): the trace moves.
    let other = f.with_file_name("other");
    assert!(run(&f, &other, &["--seed", "1"]).status.success());
    assert_ne!(trace(&other), trace(&whole));
}

/// A VRRAE with a trainable mean stopped during fine-tuning and resumed folds its mean
/// map with U_f again (from the encoder's own outputs, the folded layer unfolded first):
/// its loss trace and its artifact are the uninterrupted run's.
#[test]
fn a_trainable_vrrae_resumed_in_fine_tuning_folds_its_mean_as_before() {
    let f = tiny_with("vrrae_fold", "vrrae(k = 2, beta = 0.01, mean = trainable)");
    let (whole, parts) = whole_and_resumed(&f, "45");
    let t = trace(&parts);
    assert_eq!(t.iter().filter(|l| l.starts_with("fine_tune,")).count(), 10);
    assert_eq!(t, trace(&whole));
    // The artifacts encode the same samples to the same coefficients (their headers
    // differ: they record the resume).
    let x = whole.join("x.npy");
    let out = rrae(&[
        "sample",
        whole.to_str().unwrap_or(""),
        "-n",
        "6",
        "-o",
        x.to_str().unwrap_or(""),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let encode = |d: &Path| {
        let c = d.join("c.npy");
        let out = rrae(&[
            "encode",
            d.to_str().unwrap_or(""),
            x.to_str().unwrap_or(""),
            "-o",
            c.to_str().unwrap_or(""),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        npy_f64_values(&c)
    };
    let c = encode(&whole);
    assert_eq!(c.len(), 6 * 2);
    assert_eq!(encode(&parts), c);
}

/// `rrae compare` puts the family beside the RRAE: a row each with its operator, the
/// VRRAE with its rank; every variational step logs its penalty in `losses.csv`, the
/// column the report's loss plot draws in purple, and a model without one leaves it empty.
#[test]
fn compare_shows_the_family_and_losses_csv_carries_each_penalty() {
    let files: Vec<PathBuf> = [
        ("cmp_rrae", "svd_truncate(k = 2)"),
        ("cmp_vae", "vae(beta = 0.01)"),
        ("cmp_vrrae", "vrrae(k = 2, beta = 0.01)"),
        ("cmp_lorae", "lorae(lambda = 0.01)"),
    ]
    .iter()
    .map(|(n, l)| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("rrae-variational-{}-compare", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}")); // ok: test
        let f = dir.join(format!("{n}.rrae"));
        std::fs::write(&f, TINY.replace("svd_truncate(k = 2)", l))
            .unwrap_or_else(|e| panic!("{e}")); // ok: test
        f
    })
    .collect();
    let out_dir = files[0].with_file_name("compare-out");
    let mut args = vec!["compare"];
    args.extend(files.iter().map(|f| f.to_str().unwrap_or("")));
    args.extend(["--out", out_dir.to_str().unwrap_or(""), "-q"]);
    let out = rrae(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for want in [
        "| 1 | cmp_rrae | `svd_truncate(k = 2)` | 8 | 2 |",
        "| 2 | cmp_vae | `vae(beta = 0.01)` | 8 | — |",
        "| 3 | cmp_vrrae | `vrrae(k = 2, beta = 0.01)` | 8 | 2 |",
        "| 4 | cmp_lorae | `lorae(lambda = 0.01)` | 8 | — |",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
    for (name, has) in [
        ("cmp_rrae", false),
        ("cmp_vae", true),
        ("cmp_vrrae", true),
        ("cmp_lorae", true),
    ] {
        let csv =
            std::fs::read_to_string(out_dir.join(name).join("losses.csv")).unwrap_or_default();
        assert!(
            csv.starts_with("phase,step,k,loss,validation,penalty,ms\n"),
            "{name}"
        );
        let penalties: Vec<&str> = csv
            .lines()
            .skip(1)
            .filter(|l| l.starts_with("train,"))
            .map(|l| l.split(',').nth(5).unwrap_or(""))
            .collect();
        if has {
            // A positive, finite term at every training step (a KL, a nuclear norm).
            assert!(
                penalties
                    .iter()
                    .all(|p| p.parse::<f64>().is_ok_and(|v| v.is_finite() && v > 0.0)),
                "{name}: {penalties:?}"
            );
        } else {
            assert!(
                penalties.iter().all(|p| p.is_empty()),
                "{name}: {penalties:?}"
            );
        }
    }
}
