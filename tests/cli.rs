//! Golden tests that spawn the `rrae` binary, as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn rrae(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn files(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rrae"))
        .map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    out.sort();
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_succeeds_on_every_model_and_example_and_prints_the_snapshot_graph() {
    let all: Vec<String> = files("models")
        .into_iter()
        .chain(files("models/mnist"))
        .chain(files("models/fashion_mnist"))
        .chain(files("examples"))
        .collect();
    assert!(all.len() >= 24);
    for f in all {
        let out = rrae(&["check", &f]);
        assert!(
            out.status.success(),
            "rrae check {f} failed:\n{}",
            text(&out.stderr)
        );
        assert!(out.stderr.is_empty());
        insta::assert_snapshot!(
            format!("check_{}", f.replace(['/', '.'], "_")),
            text(&out.stdout)
        );
    }
}

/// Writes a test input under target/ (Cargo's scratch folder for integration tests),
/// not the system's temporary folder, so runs leave nothing behind outside target/.
fn bad_file(name: &str, body: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rrae-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn check_reports_a_30x30_decoder_at_its_layer_and_exits_1_without_a_panic() {
    let p = bad_file(
        "bad30.rrae",
        "use cnn\n\nmodel m {\n    input [1, 28, 28]\n    encoder { cnn_encoder(latent = 32) }\n    latent svd_truncate(k = 4)\n    decoder {\n        linear(32 * 7 * 7)\n        reshape([32, 7, 7])\n        conv_transpose2d(16, 3, stride = 2, padding = 1, output_padding = 1)\n        relu\n        conv_transpose2d(8, 3, stride = 2, padding = 1, output_padding = 1)\n        relu\n        conv2d(1, 3, padding = 2)\n    }\n}\n",
    );
    let out = rrae(&["check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr).replace(p.to_str().unwrap(), "bad30.rrae");
    assert!(!err.contains("panicked") && !err.contains("backtrace"));
    insta::assert_snapshot!("check_bad30", err);
}

#[test]
fn a_stdlib_error_points_into_the_stdlib_and_at_the_users_call() {
    // cnn_decoder asked for a 2-channel output of a 1-channel input: the mistake is in
    // the user's call, and the diagnostic shows both places.
    let p = bad_file(
        "stdlib_call.rrae",
        "use cnn\nmodel m {\n    input [1, 28, 28]\n    encoder { cnn_encoder(latent = 16) }\n    latent svd_truncate(k = 3)\n    decoder { cnn_decoder(out = [2, 28, 28]) }\n}\n",
    );
    let out = rrae(&["check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr).replace(p.to_str().unwrap(), "stdlib_call.rrae");
    assert!(err.contains("stdlib/cnn.rrae:"), "{err}");
    assert!(
        err.contains("this call to `cnn_decoder` makes the output"),
        "{err}"
    );
    assert!(
        err.contains("write `out = [1, 28, 28]` in this call"),
        "{err}"
    );
    insta::assert_snapshot!("check_stdlib_call", err);
}

#[test]
fn a_missing_file_exits_2_and_says_why() {
    let out = rrae(&["check", "no/such/file.rrae"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read no/such/file.rrae"));
}

#[test]
fn every_shipped_rrae_file_is_canonically_formatted() {
    for f in files("models")
        .into_iter()
        .chain(files("models/mnist"))
        .chain(files("models/fashion_mnist"))
        .chain(files("examples"))
        .chain(files("examples/signals"))
        .chain(files("examples/celeba"))
        .chain(files("bench/colour"))
        .chain(files("stdlib"))
    {
        let out = rrae(&["fmt", "--check", &f]);
        assert!(
            out.status.success(),
            "{f} is not formatted:\n{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn fmt_is_idempotent_and_keeps_comments_and_meaning() {
    let messy = "# head comment\nuse   cnn\nlet L=64 # trailing\nmodel m{input [1,64,64]\nencoder{cnn_encoder(latent=L)}\n# about the latent\nlatent svd_truncate( k=2 )\ndecoder {cnn_decoder(out=[1,64,64])}}\ntrain{steps=10;batch=8}\n";
    let p = bad_file("messy.rrae", messy);
    let once = rrae(&["fmt", p.to_str().unwrap()]);
    assert!(once.status.success());
    let formatted = text(&once.stdout);
    insta::assert_snapshot!("fmt_messy", formatted);
    for c in ["# head comment", "# trailing", "# about the latent"] {
        assert!(formatted.contains(c), "lost {c}");
    }
    let p2 = bad_file("messy2.rrae", &formatted);
    let twice = rrae(&["fmt", p2.to_str().unwrap()]);
    assert_eq!(text(&twice.stdout), formatted);
    // Same graph before and after.
    let a = rrae(&["check", p.to_str().unwrap()]);
    let b = rrae(&["check", p2.to_str().unwrap()]);
    assert!(a.status.success());
    assert_eq!(text(&a.stdout), text(&b.stdout));
}

#[test]
fn fmt_write_rewrites_in_place_and_refuses_broken_files() {
    let p = bad_file("rewrite.rrae", "let  a=1\n");
    assert!(rrae(&["fmt", "--write", p.to_str().unwrap()])
        .status
        .success());
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "let a = 1\n");
    let broken = bad_file("broken.rrae", "model m {\n");
    let out = rrae(&["fmt", "--write", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("error[E004]"));
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "model m {\n",
        "a broken file is left untouched"
    );
}

/// A model that trains in well under a second: the golden tests' workhorse.
const TINY: &str = include_str!("fixtures/tiny.rrae");

#[test]
fn run_writes_the_run_folder_with_metrics_losses_model_and_plots() {
    let f = bad_file("tiny.rrae", TINY);
    let out_dir = f.with_file_name("tiny-run");
    let out = rrae(&[
        "run",
        f.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("latent rank 2"), "{stdout}");
    assert!(stdout.contains("40 train + 10 fine-tune steps"), "{stdout}");
    for name in [
        "metrics.json",
        "losses.csv",
        "model.safetensors",
        "basis.npy",
        "latents.npy",
        "coefficients.npy",
        "loss.png",
        "singular_values.png",
        "singular_values_log.png",
        "reconstructions.png",
        "interpolations.png",
        "samples.png",
        "events.jsonl",
        "decisions.jsonl",
    ] {
        let p = out_dir.join(name);
        assert!(p.is_file(), "missing {name}");
        if name.ends_with(".png") {
            assert_eq!(&std::fs::read(&p).unwrap()[1..4], b"PNG", "{name}");
        }
    }
    let m = metrics(&out_dir);
    assert_eq!(m["metrics"]["latent_rank"], 2);
    assert_eq!(m["steps"], 40);
    assert!(m["metrics"]["train_error"].as_f64().unwrap() > 0.0);
    assert!(m["metrics"]["interpolation_error"].as_f64().is_some());
    // One progress phase each: training, then fine-tuning.
    let events = std::fs::read_to_string(out_dir.join("events.jsonl")).unwrap();
    let starts: Vec<&str> = events
        .lines()
        .filter(|l| l.contains(r#""event":"start""#))
        .collect();
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert!(
        starts[1].contains(r#""phase":"fine_tune","steps":10,"from":0"#),
        "{starts:?}"
    );
    let csv = std::fs::read_to_string(out_dir.join("losses.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 40 + 10);
    assert!(
        csv.starts_with("phase,step,k,loss,validation,penalty,ms\ntrain,0,2,"),
        "{csv}"
    );
    // No temporary file is left behind.
    assert!(std::fs::read_dir(&out_dir).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with('.')));
}

#[test]
fn eval_repeats_the_runs_evaluation_with_the_runs_own_seed() {
    let f = bad_file("tiny-eval.rrae", TINY);
    let dir = f.with_file_name("tiny-eval-run");
    let d = dir.to_str().unwrap();
    let out = rrae(&["run", f.to_str().unwrap(), "--out", d, "--seed", "7", "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = rrae(&["eval", d]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("interpolated samples: bump-fit error"),
        "{stdout}"
    );
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
    };
    let (run, again) = (read("metrics.json"), read("eval.json"));
    let m = &run["metrics"];
    assert_eq!(run["seed"], 7);
    // The interpolation pairs and samples are drawn from the run's seed (7, given on
    // the command line), not the file's (0): the same draws, the same figures.
    for key in [
        "train_error",
        "test_error",
        "interpolation_per_sample",
        "interpolation_bump_fit",
        "sampling_bump_fit",
    ] {
        assert!(!m[key].is_null(), "{key} missing");
        assert_eq!(m[key], again[key], "{key}");
    }
}

/// `RRAE_INIT` and `RRAE_BATCH_ORDER` replace the seeded initialisation and batch
/// order: a run under another seed, given seed 3's initial weights and batches, has
/// seed 3's loss trace (the hooks bench/torch_rrae.py --export feeds).
#[test]
fn a_run_given_another_seeds_weights_and_batches_has_that_seeds_trace() {
    let f = bad_file("replay.rrae", TINY);
    let dir = |name: &str| f.with_file_name(name);
    let run = |out: &Path, extra: &[&str], env: &[(&str, &Path)]| -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rrae"));
        c.args([
            "run",
            f.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
        ]);
        c.args(extra).current_dir(root());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let (want, init, got) = (dir("replay-3"), dir("replay-init"), dir("replay-5"));
    assert!(run(&want, &["--seed", "3"], &[]).status.success());
    let zero = ["--seed", "3", "--steps", "0", "--fine-tune-steps", "0"];
    assert!(run(&init, &zero, &[]).status.success());
    // TINY: 25 training bumps, batch 10, 40 + 10 steps.
    use rrae_train::control::Phase;
    let draw = |phase: Phase, count: usize| -> Vec<Vec<usize>> {
        let seed = rrae_train::schedule::loader::phase_seed(3, phase);
        let mut b = rrae_train::data::Batches::new(25, 10, seed);
        (0..count).map(|_| b.next_batch()).collect()
    };
    let order = init.join("order.json");
    let (train, fine) = (draw(Phase::Train, 40), draw(Phase::FineTune, 10));
    let json = serde_json::json!({"train": train, "fine_tune": fine});
    std::fs::write(&order, json.to_string()).unwrap();
    let weights = init.join("model.safetensors");
    let env = [
        ("RRAE_INIT", weights.as_path()),
        ("RRAE_BATCH_ORDER", &order),
    ];
    let out = run(&got, &["--seed", "5"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(trace(&got), trace(&want));
    // Either hook alone is not enough: seed 5's own batches give another trace.
    let alone = dir("replay-init-only");
    assert!(run(&alone, &["--seed", "5"], &env[..1]).status.success());
    assert_ne!(trace(&alone), trace(&want));

    // A batch order that names a sample the data set does not have stops the run
    // before the first step, naming the file.
    std::fs::write(&order, r#"{"train": [[0, 1, 2, 3, 4, 5, 6, 7, 8, 99]]}"#).unwrap();
    let out = run(&dir("replay-bad"), &[], &env);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("order.json") && err.contains("names sample 99"),
        "{err}"
    );
}

#[test]
fn run_reports_divergence_and_keeps_the_losses() {
    let src = TINY.replace("batch = 10", "batch = 10 lr = 1e30 optimizer = sgd");
    let f = bad_file("diverge.rrae", &src);
    let out_dir = f.with_file_name("diverge-run");
    let out = rrae(&[
        "run",
        f.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("became NaN or infinite at train step"),
        "{err}"
    );
    assert!(err.contains("help: lower `lr`"), "{err}");
    assert!(out_dir.join("losses.csv").is_file());
    assert!(!out_dir.join("model.safetensors").exists());
}

/// Every latent operator of the zoo trains through `rrae run` on a small model, and
/// its artifact opens: one line of the file is all that changes.
#[test]
fn every_latent_operator_of_the_zoo_runs_end_to_end() {
    for (name, latent, k) in [
        ("long", "identity", "—"),
        ("sparse", "sigmoid_sparse(rho = 0.05, beta = 1.0)", "—"),
        ("contractive", "contractive(beta = 0.1)", "—"),
        ("irmae", "linear_stack(l = 2)", "—"),
        ("weak", "weak_svd(k = 2, beta = 1.0)", "2"),
        ("fixed", "fixed_basis(k = 2, seed = 3)", "2"),
        ("learned", "learned_basis(k = 2)", "2"),
        (
            "parsimonious",
            "svd_truncate(k = adaptive, search = parsimonious, window = 5, patience = 5)",
            "",
        ),
        (
            "bisect",
            "svd_truncate(k = adaptive, search = bisect, window = 5, patience = 5)",
            "",
        ),
        (
            "trend",
            "svd_truncate(k = adaptive, search = trend, window = 5, patience = 5)",
            "",
        ),
        (
            "library",
            "svd_truncate(k = adaptive, search = library, window = 5, patience = 5)",
            "",
        ),
        ("descended", "svd_truncate(k = 2, descend = true)", "2"),
    ] {
        let src = TINY.replace("svd_truncate(k = 2)", latent);
        let f = bad_file(&format!("zoo-{name}.rrae"), &src);
        let dir = f.with_file_name(format!("zoo-{name}-run"));
        let out = run_tiny(&f, &dir, &[]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("train error"), "{name}");
        let out = rrae(&["inspect", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        if !k.is_empty() {
            let want = format!(", k = {k},");
            assert!(
                text(&out.stdout).contains(&want),
                "{name}: {}",
                text(&out.stdout)
            );
        }
    }
}

#[test]
fn the_version_names_the_commit_and_completions_cover_every_command() {
    let out = rrae(&["--version"]);
    assert!(out.status.success());
    let v = text(&out.stdout);
    let commit = v
        .split("commit ")
        .nth(1)
        .map(|c| c.chars().take_while(|c| c.is_ascii_hexdigit()).count());
    assert!(
        v.starts_with("rrae ")
            && (commit == Some(12) || v.contains("not built from a git checkout")),
        "{v}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let out = rrae(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for command in ["check", "run", "bench", "lsp", "completions"] {
            assert!(
                script.contains(command),
                "{shell} completion lacks `{command}`"
            );
        }
    }
    assert!(!rrae(&["completions", "cmd.exe"]).status.success());
}

#[test]
fn bench_prints_the_median_time_of_each_phase() {
    let f = bad_file("bench.rrae", TINY);
    for (phase, what) in [
        ("train", "training step"),
        ("fine-tune", "fine-tuning step"),
        ("inference", "inference batch"),
    ] {
        let out = rrae(&[
            "bench",
            f.to_str().unwrap(),
            "--steps",
            "3",
            "--warmup",
            "1",
            "--phase",
            phase,
        ]);
        assert!(out.status.success(), "{phase}: {}", text(&out.stderr));
        let s = text(&out.stdout);
        let (device, s) = s.split_once('\n').unwrap_or_default();
        assert!(device.starts_with("device: "), "{phase}: {device}");
        assert!(
            s.starts_with("tiny: ") && s.contains(&format!("ms per {what} over 3 ")),
            "{phase}: {s}"
        );
    }
}

/// Column `col` (1: step, 2: k) of losses.csv's rows that start with `prefix`.
fn losses_column<T: std::str::FromStr>(dir: &Path, prefix: &str, col: usize) -> Vec<T>
where
    T::Err: std::fmt::Debug,
{
    std::fs::read_to_string(dir.join("losses.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect()
}

/// A run folder's metrics.json.
fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap()
}

/// (phase, step, k, loss) of every logged step: the trace without the timings.
fn trace(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("losses.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

fn run_tiny(f: &Path, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", f.to_str().unwrap(), "-q"];
    if !extra.contains(&"--resume") {
        args.extend(["--out", dir.to_str().unwrap()]);
    }
    args.extend(extra);
    rrae(&args)
}

#[test]
fn a_run_stopped_twice_and_resumed_gives_the_uninterrupted_loss_trace() {
    let f = bad_file("resume.rrae", TINY);
    let whole = f.with_file_name("resume-whole");
    let parts = f.with_file_name("resume-parts");
    assert!(run_tiny(&f, &whole, &[]).status.success());
    // Stop in the training phase, then in fine-tuning, then finish.
    let out = run_tiny(&f, &parts, &["--stop-after", "25"]);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("interrupted after step 25"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert!(parts.join("checkpoint.safetensors").is_file());
    assert!(!parts.join("metrics.json").exists());
    let p = parts.to_str().unwrap();
    // No artifact yet: an RRAE has no inference form before U_f exists.
    assert!(!parts.join("model.rra").exists());
    let out = run_tiny(&f, &parts, &["--resume", p, "--stop-after", "45"]);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    // Stopped while fine-tuning: the checkpoint comes with the artifact so far.
    let out = rrae(&["inspect", p]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("40 + 5 fine-tune steps"),
        "{}",
        text(&out.stdout)
    );
    let out = run_tiny(&f, &parts, &["--resume", p]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(trace(&whole), trace(&parts));
    assert_eq!(trace(&parts).len(), 1 + 40 + 10);
    assert_eq!(metrics(&whole)["metrics"], metrics(&parts)["metrics"]);
    // The event log tells the story: two checkpoints and two resumptions.
    let events = std::fs::read_to_string(parts.join("events.jsonl")).unwrap();
    assert_eq!(events.matches(r#""event":"resumed""#).count(), 2);
    assert_eq!(events.matches(r#""event":"checkpoint""#).count(), 2);
}

#[test]
fn resuming_with_another_model_or_without_a_checkpoint_is_refused() {
    let f = bad_file("resume-other.rrae", TINY);
    let dir = f.with_file_name("resume-other-run");
    let out = run_tiny(&f, &dir, &["--stop-after", "5"]);
    assert_eq!(out.status.code(), Some(130));
    let other = bad_file(
        "resume-other2.rrae",
        &TINY.replace("linear(8)", "linear(9)"),
    );
    let out = run_tiny(&other, &dir, &["--resume", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("is not the text this run started from"),
        "{err}"
    );
    // Without the folder's record (a run from before command.json), the checkpoint's
    // own check still refuses it.
    std::fs::remove_file(dir.join("command.json")).unwrap();
    let out = run_tiny(&other, &dir, &["--resume", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("it was written for another model"));
    let empty = f.with_file_name("resume-nothing");
    let out = run_tiny(&f, &empty, &["--resume", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("checkpoint.safetensors"));
    // A damaged checkpoint is an error, not a panic.
    let ck = dir.join("checkpoint.safetensors");
    let bytes = std::fs::read(&ck).unwrap();
    std::fs::write(&ck, &bytes[..bytes.len() / 2]).unwrap();
    let out = run_tiny(&f, &dir, &["--resume", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot read"));
}

#[cfg(unix)]
#[test]
fn sigint_stops_after_the_step_writes_a_checkpoint_and_the_run_resumes_identically() {
    // Twice, as `timeout` and process-group kills deliver it: a repeat within a
    // second must not skip the checkpoint.
    signal_then_resume("sigint", libc::SIGINT, 2);
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_run_like_ctrl_c() {
    signal_then_resume("sigterm", libc::SIGTERM, 1);
}

#[cfg(unix)]
fn signal_then_resume(name: &str, signal: i32, times: usize) {
    let src = TINY.replace("steps = 40", "steps = 600");
    let f = bad_file(&format!("{name}.rrae"), &src);
    let whole = f.with_file_name(format!("{name}-whole"));
    let parts = f.with_file_name(format!("{name}-parts"));
    assert!(run_tiny(&f, &whole, &[]).status.success());
    let child = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args([
            "run",
            f.to_str().unwrap(),
            "-q",
            "--out",
            parts.to_str().unwrap(),
        ])
        .current_dir(root())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it is training, then send the signal.
    let events = parts.join("events.jsonl");
    let started = |_| {
        std::thread::sleep(std::time::Duration::from_millis(5));
        std::fs::read_to_string(&events).map_or(0, |e| e.matches(r#""event":"step""#).count()) >= 20
    };
    assert!((0..24_000).any(started), "the run did not start");
    for _ in 0..times {
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
    }
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted after step"), "{err}");
    let out = run_tiny(&f, &parts, &["--resume", parts.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(trace(&whole), trace(&parts));
}

#[test]
fn an_adaptive_run_logs_its_decisions_and_ends_at_the_rank_it_found() {
    let src = TINY
        .replace(
            "svd_truncate(k = 2)",
            "svd_truncate(k = adaptive, window = 10, patience = 20, max_steps = 600)",
        )
        .replace("steps = 40", "steps = 600 lr = 3e-3");
    let f = bad_file("adaptive.rrae", &src);
    let dir = f.with_file_name("adaptive-run");
    let out = run_tiny(&f, &dir, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("decisions.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Algorithm 1 starts at min(batch, L) = 8 and keeps its stagnated loss as the target.
    assert_eq!(lines[0]["action"], "set_k");
    assert_eq!(lines[0]["rank"], 8);
    assert_eq!(lines[1]["action"], "save");
    assert!(lines[1]["target"].as_f64().is_some());
    for l in &lines {
        for key in ["step", "k", "phase", "reason", "action"] {
            assert!(!l[key].is_null(), "{key} missing in {l}");
        }
    }
    let end = lines.iter().find(|l| l["action"] == "fine_tune").unwrap();
    let k = end["rank"].as_u64().unwrap();
    assert!((1..8).contains(&k), "k* = {k}");
    let m = metrics(&dir);
    assert_eq!(m["k"].as_u64(), Some(k));
    assert_eq!(m["metrics"]["latent_rank"].as_u64(), Some(k));
    // Where the training steps went adds up to them, and the ranks given up are the
    // ones the decisions restored away from.
    let spent = &m["search_steps"];
    let parts: u64 = ["warmup", "kept", "given_up", "settle"]
        .iter()
        .map(|p| spent[p].as_u64().unwrap())
        .sum();
    assert_eq!(Some(parts), m["train_steps_done"].as_u64(), "{spent}");
    let restored_from: Vec<_> = lines
        .iter()
        .filter(|l| l["action"] == "restore")
        .map(|l| l["k"].clone())
        .collect();
    assert_eq!(spent["given_up_ranks"].as_array(), Some(&restored_from));
    assert_eq!(spent["warmup"], lines[1]["step"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("adaptive search: k* = {k}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("where they went: warm-up {}", lines[1]["step"])),
        "{stdout}"
    );
    // The terminal showed the decisions too, even with -q.
    assert!(text(&out.stderr).contains("set k = 8"));
}

#[test]
fn the_artifact_of_a_run_is_inspected_sampled_encoded_and_decoded() {
    let f = bad_file("art.rrae", TINY);
    let dir = f.with_file_name("art-run");
    assert!(run_tiny(&f, &dir, &[]).status.success());
    let art = dir.join("model.rra");
    assert!(art.is_file());
    let a = art.to_str().unwrap();
    let out = rrae(&["inspect", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for want in [
        "model      tiny",
        "input      [1, 16, 16] (256 values)",
        "project(U_f) with k = 2",
        "40 + 10 fine-tune steps, k = 2",
        "errors     train",
        "source     FNV-1a",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
    // Samples as a PNG grid and as numbers.
    let png = dir.join("grid.png");
    let out = rrae(&["sample", a, "-n", "16", "-o", png.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    // encode → decode round trip over .npy: the latents.npy of the run are not samples,
    // so write samples first: decode the coefficients of the run.
    let coeffs = dir.join("coefficients.npy");
    let dec = dir.join("decoded.npy");
    let out = rrae(&[
        "decode",
        a,
        coeffs.to_str().unwrap(),
        "-o",
        dec.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("25 coefficient rows"));
    let enc = dir.join("encoded.npy");
    let out = rrae(&[
        "encode",
        a,
        dec.to_str().unwrap(),
        "-o",
        enc.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("25 samples → 25 × 2 coefficients"));
    // A wrong-width input and a damaged artifact are clear errors.
    let out = rrae(&[
        "encode",
        a,
        coeffs.to_str().unwrap(),
        "-o",
        enc.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the model takes 256"),
        "{}",
        text(&out.stderr)
    );
    let bytes = std::fs::read(&art).unwrap();
    let bad = dir.join("bad.rra");
    std::fs::write(&bad, &bytes[..bytes.len() - 100]).unwrap();
    let out = rrae(&["inspect", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the artifact is damaged"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_failing_monitor_stage_stops_the_run_with_the_path_it_could_not_write() {
    let f = bad_file("monitor.rrae", TINY);
    let dir = f.with_file_name("monitor-run");
    // A directory where the event log goes: the monitor cannot open it.
    std::fs::create_dir_all(dir.join("events.jsonl")).unwrap();
    let out = run_tiny(&f, &dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot write") && err.contains("events.jsonl"),
        "{err}"
    );
    assert!(!dir.join("model.rra").exists());
}

/// `rrae compare FILE --out OUT --reuse -q`.
fn compare_reuse(file: &Path, out: &Path) -> Output {
    rrae(&[
        "compare",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--reuse",
        "-q",
    ])
}

#[test]
fn compare_trains_files_reads_run_folders_and_writes_the_table_and_figures() {
    let rrae_file = bad_file("cmp-rrae.rrae", TINY);
    let long_file = bad_file(
        "cmp-long.rrae",
        &TINY.replace("svd_truncate(k = 2)", "identity"),
    );
    // One model is a finished run folder already.
    let weak_file = bad_file(
        "cmp-weak.rrae",
        &TINY.replace("svd_truncate(k = 2)", "weak_svd(k = 2, beta = 1.0)"),
    );
    let weak_dir = weak_file.with_file_name("cmp-weak-run");
    assert!(run_tiny(&weak_file, &weak_dir, &[]).status.success());
    let out_dir = rrae_file.with_file_name("cmp-out");
    let out = rrae(&[
        "compare",
        rrae_file.to_str().unwrap(),
        long_file.to_str().unwrap(),
        weak_dir.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--steps",
        "30",
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("| 1 | cmp-rrae | `svd_truncate(k = 2)` | 8 | 2 |"),
        "{stdout}"
    );
    // Rows are named after the file (or the run folder), not the model inside, which
    // the zoo's files share.
    assert!(
        stdout.contains("| 2 | cmp-long | `identity` | 8 | — |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| 3 | cmp-weak-run | `weak_svd(k = 2, beta = 1.0)` | 8 | 2 |"),
        "{stdout}"
    );
    // Bumps give interpolation (bump fit and against the centre) and sampling errors as
    // mean ± std.
    let row = stdout.lines().find(|l| l.starts_with("| 1 |")).unwrap();
    assert_eq!(row.matches(" ± ").count(), 3, "{row}");
    for f in [
        "compare.md",
        "compare.json",
        "singular_values.png",
        "singular_values_log.png",
        "interpolations.png",
        "samples.png",
    ] {
        assert!(out_dir.join(f).is_file(), "missing {f}");
    }
    assert!(out_dir.join("cmp-rrae").join("metrics.json").is_file());
    // --reuse reads the finished folders instead of training again.
    let out = compare_reuse(&rrae_file, &out_dir);
    assert!(out.status.success());
    assert!(!text(&out.stderr).contains("== "), "{}", text(&out.stderr));
    // --reuse resumes an interrupted run from its checkpoint instead of starting over.
    let irmae_file = bad_file(
        "cmp-irmae.rrae",
        &TINY.replace("svd_truncate(k = 2)", "linear_stack(l = 2)"),
    );
    let irmae_dir = out_dir.join("cmp-irmae");
    let out = run_tiny(&irmae_file, &irmae_dir, &["--stop-after", "10"]);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let out = compare_reuse(&irmae_file, &out_dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("(resuming "),
        "{}",
        text(&out.stderr)
    );
    let steps: Vec<usize> = losses_column(&irmae_dir, "", 1);
    assert!(steps.len() > 10, "{steps:?}");
    assert!(steps.iter().enumerate().all(|(i, &s)| s == i), "{steps:?}");
    // A folder that is not a finished run is a clear error.
    let out = rrae(&["compare", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is it a finished run folder?"));
}

/// `svd_truncate(k = 2, anneal = 20)`: the rank falls from min(batch, L) = 8 to 2 over
/// the first 20 steps (losses.csv's k column, decisions.jsonl), the model ends at k = 2,
/// and a run stopped mid-anneal resumes onto the same trace.
#[test]
fn an_annealed_rank_descends_to_k_and_resumes_mid_anneal() {
    let src = TINY.replace("svd_truncate(k = 2)", "svd_truncate(k = 2, anneal = 20)");
    let f = bad_file("anneal.rrae", &src);
    let whole = f.with_file_name("anneal-whole");
    let out = run_tiny(&f, &whole, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("latent rank 2"),
        "{}",
        text(&out.stdout)
    );
    let ks: Vec<usize> = losses_column(&whole, "train,", 2);
    assert_eq!(ks.len(), 40);
    assert_eq!(ks[0], 8);
    assert!(ks.windows(2).all(|w| w[1] <= w[0]), "{ks:?}");
    assert!(ks[19] > 2 && ks[20..].iter().all(|&k| k == 2), "{ks:?}");
    let decisions = std::fs::read_to_string(whole.join("decisions.jsonl")).unwrap();
    assert!(decisions.contains("annealing the rank from 8 to 2 over 20 steps"));
    let parts = f.with_file_name("anneal-parts");
    let out = run_tiny(&f, &parts, &["--stop-after", "9"]);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let out = run_tiny(&f, &parts, &["--resume", parts.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(trace(&whole), trace(&parts));
}

/// `fine_tune_lr` drives the decoder fine-tuning and nothing else: the training phase
/// and the first fine-tuning loss (taken before any fine-tuning update) are the same at
/// any rate, and on the same batches a rate 100× smaller stays 10× closer to a run whose
/// rate (1e-8) barely moves the decoder.
#[test]
fn the_fine_tuning_runs_at_its_own_learning_rate() {
    let run = |name: &str, lr: Option<&str>| -> PathBuf {
        let src = match lr {
            Some(lr) => TINY.replace(
                "batch = 10 }",
                &format!("batch = 10 fine_tune_lr = {lr} }}"),
            ),
            None => TINY.to_string(),
        };
        assert_eq!(src == TINY, lr.is_none());
        let f = bad_file(&format!("{name}.rrae"), &src);
        let d = f.with_file_name(name);
        let out = run_tiny(&f, &d, &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        d
    };
    let (fast, slow, still) = (
        run("ft-fast", None),
        run("ft-slow", Some("1e-5")),
        run("ft-still", Some("1e-8")),
    );
    let rows = |d: &Path, phase: &str| -> Vec<String> {
        trace(d)
            .into_iter()
            .filter(|l| l.starts_with(phase))
            .collect()
    };
    assert_eq!(rows(&fast, "train,").len(), 40);
    assert_eq!(rows(&fast, "train,"), rows(&slow, "train,"));
    let losses = |d: &Path| losses_column::<f64>(d, "fine_tune,", 3);
    let (a, b, c) = (losses(&fast), losses(&slow), losses(&still));
    assert_eq!(a.len(), 10);
    assert_eq!((a[0], b[0]), (c[0], c[0]));
    let dist = |x: &[f64]| -> f64 { x.iter().zip(&c).map(|(x, c)| (x - c).abs()).sum() };
    assert!(
        dist(&a) > 0.0 && dist(&b) < dist(&a) / 10.0,
        "{a:?}\n{b:?}\n{c:?}"
    );
    let lr = |d: &Path| metrics(d)["fine_tune_lr"].as_f64().unwrap();
    assert_eq!((lr(&fast), lr(&slow)), (1e-3, 1e-5));
}

/// Without libtorch, `rrae fid` says how to get the standard FID instead of failing
/// obscurely.
#[cfg(not(feature = "inception"))]
#[test]
fn fid_without_the_inception_feature_says_how_to_build_it() {
    let out = rrae(&["fid", "a.npy", "b.npy"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--features inception") && err.contains("docs/fid.md"),
        "{err}"
    );
}

/// Asking for a GPU that is not there is an error naming what was looked for and the
/// `--device cpu` fix, with no panic and no run folder; `auto` trains on the CPU and
/// says so on the first line and in metrics.json. On a machine with a GPU the same
/// error comes from an ordinal past the last device.
#[test]
fn a_missing_gpu_is_a_clear_error_and_auto_says_which_device_it_took() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("device-cuda");
    let _ = std::fs::remove_dir_all(&out_dir);
    let gpus = rrae_engine::device::cuda::probe::device_count();
    let asked = match &gpus {
        Ok(n) => format!("cuda:{n}"),
        Err(_) => "cuda".to_string(),
    };
    let dir = out_dir.to_string_lossy().to_string();
    let out = rrae(&[
        "run",
        "examples/quickstart.rrae",
        "--device",
        &asked,
        "--out",
        &dir,
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("help: run on the CPU with `--device cpu`"),
        "{err}"
    );
    match &gpus {
        Err(_) => assert!(
            err.starts_with("error: cannot run on cuda:0: the NVIDIA driver library was not found (looked for libcuda.so"),
            "{err}"
        ),
        Ok(n) => assert!(err.contains(&format!("the driver lists {n} device")), "{err}"),
    }
    assert!(
        !out_dir.exists(),
        "a failed device left {}",
        out_dir.display()
    );

    let bad = rrae(&["run", "examples/quickstart.rrae", "--device", "tpu"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("unknown device `tpu`"),
        "{}",
        text(&bad.stderr)
    );

    if gpus.is_err() {
        let out = rrae(&[
            "run",
            "examples/quickstart.rrae",
            "--steps",
            "2",
            "--fine-tune-steps",
            "1",
            "-q",
            "--out",
            &dir,
        ]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(
            stdout.lines().next(),
            Some("device: cpu (no CUDA GPU: the NVIDIA driver library was not found)")
        );
        let metrics = std::fs::read_to_string(out_dir.join("metrics.json")).unwrap();
        assert!(metrics.contains("\"device\": \"cpu\""), "{metrics}");
        std::fs::remove_dir_all(&out_dir).unwrap();
    }
}
