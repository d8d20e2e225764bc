//! rrae against a hostile user: inputs made to crash it, each a case from the hardening
//! issue. Every case asserts the exit code, the message (an insta snapshot of what the
//! user reads) and that nothing was left behind: no panic, no run folder, no stray file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[path = "common/scratch.rs"]
mod scratch;
use scratch::Scratch;

/// A scratch folder of this suite.
fn scratch(case: &str) -> Scratch {
    Scratch::new("hostile", case)
}

/// Polls `ready` every few milliseconds; a case whose event never comes fails after two
/// minutes instead of hanging (a deadline, not a speed requirement).
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited two minutes for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// `rrae run case.rrae --out DIR -q` in the scratch folder, running on by itself.
fn background_run(s: &Scratch, dir: &str) -> std::process::Child {
    background_run_to(s, dir, Stdio::null())
}

/// `background_run` with its standard error sent to `stderr`.
fn background_run_to(s: &Scratch, dir: &str, stderr: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(["run", "case.rrae", "--out", dir, "-q"])
        .current_dir(&s.0)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A failed command: exit code 1, no panic, and stderr (returned) says `code`.
fn refused(out: &Output, code: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(&format!("error[{code}]")), "{err}");
    err
}

/// A `.npy` file of `rows` samples of `[1, side, side]` f32 zeros; `claimed` rows in
/// the header when given (a forged header).
fn npy(rows: usize, side: usize, claimed: Option<u64>) -> Vec<u8> {
    let shown = claimed.map_or(rows.to_string(), |c| c.to_string());
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({shown}, 1, {side}, {side}), }}"
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + rows * side * side * 4, 0);
    out
}

/// Twenty 4×4 samples whose values cycle through 0 … period − 1: data a model can fit.
fn varied_npy(period: usize) -> Vec<u8> {
    let mut data = npy(20, 4, None);
    let n = data.len();
    for (i, v) in data[n - 20 * 16 * 4..].chunks_mut(4).enumerate() {
        v.copy_from_slice(&((i % period) as f32).to_le_bytes());
    }
    data
}

/// A small model on `data` (an `npy(…)` call), 4×4 inputs, latent 8, rank `k`.
fn model(data: &str, k: usize, extra: &str) -> String {
    format!(
        "{extra}data d = {data}\nmodel m {{\n    input [1, 4, 4]\n    encoder {{ flatten linear(8) }}\n    latent svd_truncate(k = {k})\n    decoder {{ linear(16) reshape([1, 4, 4]) }}\n}}\ntrain {{\n    steps = 5\n    fine_tune_steps = 1\n    batch = 4\n}}\n"
    )
}

#[test]
fn an_empty_training_file_is_refused_by_check_and_run_before_anything_is_written() {
    let s = scratch("empty");
    s.write("empty.npy", npy(0, 4, None));
    s.write("case.rrae", model("npy(train = \"empty.npy\")", 1, ""));
    let err = refused(&s.rrae(&["check", "case.rrae"]), "E042");
    insta::assert_snapshot!("empty_training_file", err);
    let err = refused(&s.rrae(&["run", "case.rrae", "--out", "run"]), "E042");
    assert!(err.contains("the training set has no samples"), "{err}");
    assert_eq!(s.entries(), ["case.rrae", "empty.npy"], "no run folder");
}

#[test]
fn a_split_that_leaves_no_test_sample_is_refused() {
    let s = scratch("split");
    s.write("one.npy", npy(1, 4, None));
    s.write("case.rrae", model("npy(train = \"one.npy\")", 1, ""));
    let err = refused(&s.rrae(&["check", "case.rrae"]), "E042");
    insta::assert_snapshot!("split_leaves_no_test_sample", err);
    refused(&s.rrae(&["run", "case.rrae", "--out", "run"]), "E042");
    assert_eq!(s.entries(), ["case.rrae", "one.npy"]);
}

#[test]
fn a_header_claiming_2_to_the_62_rows_is_refused_not_wrapped_to_zero() {
    let s = scratch("huge");
    s.write("huge.npy", npy(1, 4, Some(1 << 62)));
    s.write("case.rrae", model("npy(train = \"huge.npy\")", 1, ""));
    let err = refused(&s.rrae(&["check", "case.rrae"]), "E039");
    assert!(err.contains("more data than any file can hold"), "{err}");
    insta::assert_snapshot!("forged_row_count", err);
    refused(&s.rrae(&["run", "case.rrae", "--out", "run"]), "E039");
    assert_eq!(s.entries(), ["case.rrae", "huge.npy"]);
}

#[test]
fn a_rank_above_the_training_samples_is_refused() {
    let s = scratch("rank");
    s.write("three.npy", npy(3, 4, None));
    s.write("two.npy", npy(2, 4, None));
    s.write(
        "case.rrae",
        model("npy(train = \"three.npy\", test = \"two.npy\")", 4, ""),
    );
    let err = refused(&s.rrae(&["check", "case.rrae"]), "E034");
    insta::assert_snapshot!("rank_above_training_samples", err);
    // At the limit it checks.
    s.write(
        "case.rrae",
        model("npy(train = \"three.npy\", test = \"two.npy\")", 3, ""),
    );
    assert!(s.rrae(&["check", "case.rrae"]).status.success());
}

#[test]
fn an_80_kb_operator_chain_is_an_error_not_a_stack_overflow() {
    let s = scratch("chain");
    let sum = vec!["1"; 20_000].join(" + ");
    s.write(
        "sum.rrae",
        model("npy(train = \"x.npy\")", 1, &format!("let x = {sum}\n")),
    );
    let index = format!("[1]{}", "[0]".repeat(20_000));
    s.write(
        "index.rrae",
        model("npy(train = \"x.npy\")", 1, &format!("let x = {index}\n")),
    );
    for file in ["sum.rrae", "index.rrae"] {
        for cmd in ["check", "run"] {
            let err = refused(&s.rrae(&[cmd, file]), "E006");
            assert!(
                err.lines().all(|l| l.chars().count() < 200),
                "long line shown:\n{err}"
            );
            if cmd == "check" {
                insta::assert_snapshot!(format!("operator_chain_{file}"), err);
            }
        }
    }
}

#[test]
fn a_full_stdout_ends_check_with_an_error_not_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(["check", "examples/quickstart.rrae"])
        .current_dir(&root)
        .stdout(full)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "rrae: cannot write to standard output: No space left on device (os error 28)\n"
    );
}

#[test]
fn a_closed_pipe_ends_check_quietly_with_status_141() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The reader is gone before rrae starts (as `| head -c 0` that already exited):
    // every write fails, whatever the timing.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(["check", "examples/quickstart.rrae"])
        .current_dir(&root)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert_eq!(text(&out.stderr), "", "quiet, as `yes | head` is");
}

/// A bumps model of a few seconds' training, for the cases that need a run folder.
const SMALL_RUN: &str = "data b = gaussian_bumps(grid = 8, train_per_axis = 4, test = 4)
model small {
    input [1, 8, 8]
    encoder { flatten linear(16) }
    latent svd_truncate(k = 2)
    decoder { linear(64) reshape([1, 8, 8]) }
}
train {
    steps = STEPS
    fine_tune_steps = 2
    batch = 8
}
eval {
    interpolation_pairs = 0
    random_samples = 0
}
";

#[test]
fn a_second_run_into_a_busy_folder_is_refused_and_the_first_is_untouched() {
    let s = scratch("lock");
    s.write("case.rrae", SMALL_RUN.replace("STEPS", "200000"));
    let mut first = background_run(&s, "run");
    // Wait until the first run has logged a few steps.
    let losses = s.0.join("run/losses.csv");
    wait_for("the first run's third step", || {
        std::fs::read_to_string(&losses).map_or(0, |t| t.lines().count()) >= 3
    });
    let second = s.rrae(&["run", "case.rrae", "--out", "run"]);
    let err = text(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    let pid = first.id();
    assert!(
        err.contains(&format!(
            "the run folder run is in use by rrae process {pid}"
        )),
        "{err}"
    );
    insta::assert_snapshot!("busy_run_folder", err.replace(&pid.to_string(), "PID"));
    // `rrae eval` waits its turn too.
    let eval = s.rrae(&["eval", "run"]);
    assert_eq!(eval.status.code(), Some(1), "{}", text(&eval.stderr));
    // The first run goes on; stopped, it checkpoints and releases the folder.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let status = first.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "the first run ends as interrupted"
    );
    let events = std::fs::read_to_string(s.0.join("run/events.jsonl")).unwrap();
    assert!(
        events
            .lines()
            .all(|l| l.starts_with('{') && l.ends_with('}')),
        "{events}"
    );
    assert!(!s.0.join("run/.lock").exists(), "released");
}

#[test]
fn an_out_that_is_a_file_is_named_as_such_and_left_alone() {
    let s = scratch("outfile");
    s.write("case.rrae", SMALL_RUN.replace("STEPS", "3"));
    s.write("notes.txt", "keep me");
    let out = s.rrae(&["run", "case.rrae", "--out", "notes.txt"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    insta::assert_snapshot!("out_is_a_file", err);
    assert_eq!(
        std::fs::read_to_string(s.0.join("notes.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn sample_encode_and_decode_refuse_to_write_over_their_inputs() {
    let s = scratch("overwrite");
    s.write("case.rrae", SMALL_RUN.replace("STEPS", "3"));
    let run = s.rrae(&["run", "case.rrae", "--out", "run", "-q"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let art = std::fs::read(s.0.join("run/model.rra")).unwrap();
    for args in [
        vec!["sample", "run", "-o", "run/model.rra"],
        vec!["sample", "run/model.rra", "-o", "run/model.rra"],
        vec!["encode", "run", "run/latents.npy", "-o", "run/latents.npy"],
        vec!["decode", "run", "run/model.rra", "-o", "run/model.rra"],
    ] {
        let out = s.rrae(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("is an input of this command"),
            "{args:?}: {err}"
        );
    }
    let err = text(&s.rrae(&["sample", "run", "-o", "run/model.rra"]).stderr);
    insta::assert_snapshot!("output_is_an_input", err);
    assert_eq!(
        std::fs::read(s.0.join("run/model.rra")).unwrap(),
        art,
        "the artifact is intact"
    );
}

#[test]
fn a_fine_tuning_that_diverges_keeps_and_writes_the_trained_model() {
    let s = scratch("nan");
    let src = SMALL_RUN.replace("STEPS", "20").replace(
        "fine_tune_steps = 2",
        "fine_tune_steps = 20\n    fine_tune_lr = 1e38",
    );
    s.write("case.rrae", &src);
    let out = s.rrae(&["run", "case.rrae", "--out", "run", "-q"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let last = err
        .lines()
        .skip_while(|l| !l.starts_with("error"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("fine_tuning_diverges", last);
    for f in [
        "model.rra",
        "model.safetensors",
        "metrics.json",
        "losses.csv",
    ] {
        assert!(s.0.join("run").join(f).is_file(), "{f} missing");
    }
    let metrics = std::fs::read_to_string(s.0.join("run/metrics.json")).unwrap();
    assert!(metrics.contains("\"fine_tune_diverged\""), "{metrics}");
    // The kept model is the trained one: finite errors, and `rrae sample` works on it.
    let v: serde_json::Value = serde_json::from_str(&metrics).unwrap();
    let test_error = v["metrics"]["test_error"].as_f64().unwrap();
    assert!(test_error.is_finite() && test_error < 200.0, "{test_error}");
    let sample = s.rrae(&["sample", "run", "-n", "2", "-o", "s.npy"]);
    assert!(sample.status.success(), "{}", text(&sample.stderr));
}

#[test]
fn resuming_after_the_training_data_changed_is_refused_and_works_once_restored() {
    let s = scratch("datachange");
    let mut data = npy(20, 4, None);
    let n = data.len();
    for (i, v) in data[n - 20 * 16 * 4..].chunks_mut(4).enumerate() {
        v.copy_from_slice(&((i % 7) as f32 * 0.25).to_le_bytes());
    }
    s.write("d.npy", &data);
    s.write("case.rrae", model("npy(train = \"d.npy\")", 2, ""));
    let first = s.rrae(&[
        "run",
        "case.rrae",
        "--out",
        "run",
        "--stop-after",
        "3",
        "-q",
    ]);
    assert_eq!(first.status.code(), Some(130), "{}", text(&first.stderr));
    let mut changed = data.clone();
    changed[n - 4..].copy_from_slice(&9.5f32.to_le_bytes());
    s.write("d.npy", &changed);
    let out = s.rrae(&["run", "case.rrae", "--resume", "run", "-q"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the data changed since it was written"),
        "{err}"
    );
    s.write("d.npy", &data);
    let out = s.rrae(&["run", "case.rrae", "--resume", "run", "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn unreadable_text_is_named_with_its_place_and_invisible_characters_by_code_point() {
    let s = scratch("text");
    let base = model("npy(train = \"d.npy\")", 1, "");
    s.write("d.npy", npy(10, 4, None));
    // Not UTF-8: the byte, its line and column, and the fix.
    let mut latin = b"let caf\xe9 = 1\n".to_vec();
    latin.extend_from_slice(base.as_bytes());
    s.write("latin.rrae", latin);
    let out = s.rrae(&["check", "latin.rrae"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: cannot read latin.rrae: not UTF-8 text: byte 0xe9 at line 1, column 8 (byte offset 7); save the file as UTF-8\n"
    );
    // A NUL is named, not printed.
    s.write(
        "nul.rrae",
        base.replace("flatten linear(8)", "flatten\0 linear(8)"),
    );
    let err = refused(&s.rrae(&["check", "nul.rrae"]), "E001");
    assert!(
        err.contains("found the invisible character U+0000 (NUL)"),
        "{err}"
    );
    insta::assert_snapshot!("nul_in_source", err);
    // A byte-order mark at the start is what some editors write: accepted.
    s.write("bom.rrae", format!("\u{feff}{base}"));
    let out = s.rrae(&["check", "bom.rrae"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A float that overflows is not called an integer overflow.
    s.write("big.rrae", format!("let x = 1e308 * 10\n{base}"));
    let err = refused(&s.rrae(&["check", "big.rrae"]), "E028");
    assert!(err.contains("too large for a float"), "{err}");
}

#[test]
fn eval_works_from_another_folder_and_names_a_missing_run_folder() {
    let s = scratch("evalcwd");
    s.write("d.npy", varied_npy(5));
    s.write("case.rrae", model("npy(train = \"d.npy\")", 2, ""));
    let run = s.rrae(&["run", "case.rrae", "--out", "run", "-q"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    // From the filesystem root, with the data path relative to the model file.
    let dir = s.0.join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(["eval", &dir.to_string_lossy()])
        .current_dir("/")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.join("eval.json").is_file());
    let missing = s.rrae(&["eval", "no-such-run"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("no-such-run: no such run folder"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_same_logs_without_duplicates() {
    let s = scratch("kill9");
    let src = SMALL_RUN
        .replace("STEPS", "3000\n    checkpoint_every = 50")
        .replace("svd_truncate(k = 2)", "svd_truncate(k = 2, anneal = 2000)");
    s.write("case.rrae", &src);
    let whole = s.rrae(&["run", "case.rrae", "--out", "whole", "-q"]);
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(["run", "case.rrae", "--out", "cut", "-q"])
        .current_dir(&s.0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a checkpoint is on disk and some steps and decisions came after it.
    let events = s.0.join("cut/events.jsonl");
    wait_for("30 events after a checkpoint", || {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        let e = std::fs::read_to_string(&events).unwrap_or_default();
        let lines: Vec<&str> = e.lines().collect();
        let last_ck = lines
            .iter()
            .rposition(|l| l.contains("\"event\":\"checkpoint\""));
        last_ck.is_some_and(|i| lines.len() > i + 30)
    });
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let resumed = s.rrae(&["run", "case.rrae", "--resume", "cut", "-q"]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let read = |dir: &str, f: &str| std::fs::read_to_string(s.0.join(dir).join(f)).unwrap();
    assert_eq!(
        read("cut", "decisions.jsonl"),
        read("whole", "decisions.jsonl")
    );
    let trace = |dir: &str| -> Vec<String> {
        read(dir, "losses.csv")
            .lines()
            .map(|l| l.rsplit_once(',').map_or(l, |(a, _)| a).to_string())
            .collect()
    };
    assert_eq!(
        trace("cut"),
        trace("whole"),
        "losses.csv: the same rows, once each"
    );
}

#[test]
fn what_cannot_fit_in_memory_is_refused_before_anything_is_allocated() {
    let s = scratch("memory");
    let huge = SMALL_RUN.replace("STEPS", "3").replace(
        "encoder { flatten linear(16) }",
        "encoder { flatten linear(1000000000) linear(16) }",
    );
    s.write("huge.rrae", &huge);
    // check says what it would take; run, bench refuse before allocating, no folder.
    let check = s.rrae(&["check", "huge.rrae"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let last = text(&check.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(
        last.starts_with("memory (estimate): training ") && last.contains("GiB"),
        "{last}"
    );
    for args in [
        vec!["run", "huge.rrae", "--out", "run"],
        vec!["bench", "huge.rrae", "--steps", "1"],
    ] {
        let out = s.rrae(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("training of `small` would need about"),
            "{err}"
        );
        assert!(
            err.contains("the largest part is the parameters: use narrower or fewer layers"),
            "{err}"
        );
    }
    assert_eq!(s.entries(), ["huge.rrae"]);
    // Evaluation settings that cannot fit are refused before training, not after it.
    let eval = SMALL_RUN
        .replace("STEPS", "3")
        .replace("random_samples = 0", "random_samples = 1000000000");
    s.write("eval.rrae", &eval);
    let out = s.rrae(&["run", "eval.rrae", "--out", "run"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("evaluation of `small` would need about"),
        "{err}"
    );
    assert!(err.contains("lower `random_samples`"), "{err}");
    assert!(!s.0.join("run").exists());
    // `rrae sample -n` likewise.
    s.write("ok.rrae", SMALL_RUN.replace("STEPS", "3"));
    assert!(s
        .rrae(&["run", "ok.rrae", "--out", "run", "-q"])
        .status
        .success());
    let out = s.rrae(&["sample", "run", "-n", "1000000000000", "-o", "s.npy"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("samples would need about") && err.contains("lower `-n`"),
        "{err}"
    );
    assert!(!s.0.join("s.npy").exists());
}

#[test]
fn a_damaged_or_missing_artifact_is_written_anew_by_rrae_eval() {
    let s = scratch("reexport");
    s.write("case.rrae", SMALL_RUN.replace("STEPS", "5"));
    assert!(s
        .rrae(&["run", "case.rrae", "--out", "run", "-q"])
        .status
        .success());
    let art = s.0.join("run/model.rra");
    let mut bytes = std::fs::read(&art).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0x10;
    std::fs::write(&art, &bytes).unwrap();
    let out = s.rrae(&["sample", "run", "-n", "2", "-o", "s.npy"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the artifact is damaged")
            && err.contains("`rrae eval RUN_DIR` writes it anew"),
        "{err}"
    );
    let eval = s.rrae(&["eval", "run"]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    assert!(s
        .rrae(&["sample", "run", "-n", "2", "-o", "s.npy"])
        .status
        .success());
    // And when it is gone altogether; its summary counts the run's steps.
    std::fs::remove_file(&art).unwrap();
    assert!(s.rrae(&["eval", "run"]).status.success());
    let inspect = text(&s.rrae(&["inspect", "run"]).stdout);
    assert!(
        inspect.contains("seed 0, 5 + 2 fine-tune steps, k = 2, wall time not recorded"),
        "{inspect}"
    );
}

#[test]
fn a_label_file_that_does_not_match_its_images_is_an_error_not_a_dropped_fid() {
    let s = scratch("labels");
    let images = |n: u32| {
        let mut b = vec![0, 0, 0x08, 3];
        for d in [n, 4, 4] {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend((0..n * 16).map(|i| (i * 7 % 256) as u8));
        b
    };
    let labels = |n: u32| {
        let mut b = vec![0, 0, 0x08, 1];
        b.extend_from_slice(&n.to_be_bytes());
        b.extend((0..n).map(|i| (i % 3) as u8));
        b
    };
    s.write("train-images-idx3-ubyte", images(10));
    s.write("train-labels-idx1-ubyte", labels(9));
    s.write("test-images-idx3-ubyte", images(4));
    s.write("test-labels-idx1-ubyte", labels(4));
    s.write(
        "case.rrae",
        model(
            "idx(train = \"train-images-idx3-ubyte\", test = \"test-images-idx3-ubyte\")",
            1,
            "",
        ),
    );
    let out = s.rrae(&["run", "case.rrae", "--out", "run", "-q"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("9 labels for the 10 images"), "{err}");
    // One label per image: it runs.
    s.write("train-labels-idx1-ubyte", labels(10));
    let out = s.rrae(&["run", "case.rrae", "--out", "run", "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// A float64 `.npy` of the given shape and values (parameter files).
fn npy_f64(shape: &[usize], values: &[f64]) -> Vec<u8> {
    rrae_engine::files::npy_f64_bytes(shape, values)
}

/// Test parameters outside the training range, or training parameters that cannot be
/// interpolated over, are refused by `rrae check` as by `rrae run` (before training,
/// naming the sample and the file, leaving no run folder); parameters off a grid are a
/// scatter, which runs.
#[test]
fn parameters_that_cannot_be_interpolated_are_refused_by_check_and_run_alike() {
    let s = scratch("params");
    s.write("x.npy", npy(6, 4, None));
    s.write("xt.npy", npy(2, 4, None));
    // Six training samples on a 3 × 2 grid, one of them moved off it.
    let grid = [0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0];
    let mut off = grid;
    off[10] = 2.5;
    let mut line = grid;
    for (i, v) in line.chunks_mut(2).enumerate() {
        v.copy_from_slice(&[i as f64, 2.0 * i as f64]);
    }
    s.write("p_off.npy", npy_f64(&[6, 2], &off));
    s.write("p_line.npy", npy_f64(&[6, 2], &line));
    s.write("p.npy", npy_f64(&[6, 2], &grid));
    s.write("pt.npy", npy_f64(&[2, 2], &[0.5, 0.5, 1.5, 0.25]));
    s.write("pt_out.npy", npy_f64(&[2, 2], &[0.5, 0.5, 1.5, 1.25]));
    s.write("pt_line.npy", npy_f64(&[2, 2], &[0.5, 1.0, 1.5, 3.0]));
    let data = |p: &str, pt: &str| {
        format!("npy(train = \"x.npy\", test = \"xt.npy\", params_train = \"{p}\", params_test = \"{pt}\")")
    };
    s.write("case.rrae", "");
    let before = s.entries();
    for (p, pt, file, says) in [
        ("p.npy", "pt_out.npy", "pt_out.npy", "test sample 1 (parameters [1.5, 1.25]): parameter 1 = 1.25 lies outside the training range [0, 1]"),
        ("p_line.npy", "pt_line.npy", "p_line.npy", "the training parameters are degenerate"),
    ] {
        s.write("case.rrae", model(&data(p, pt), 1, ""));
        for cmd in [&["check", "case.rrae"][..], &["run", "case.rrae", "--out", "run", "-q"]] {
            let out = s.rrae(cmd);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{cmd:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(err.contains(says) && err.contains(file), "{cmd:?}: {err}");
            assert_eq!(s.entries(), before, "no run folder");
        }
    }
    // On the grid, and off it (a scatter), inside the range: it runs and reports the
    // parametric error.
    for p in ["p.npy", "p_off.npy"] {
        s.write("case.rrae", model(&data(p, "pt.npy"), 1, ""));
        let out = s.rrae(&["run", "case.rrae", "--out", "run", "-q"]);
        assert!(out.status.success(), "{p}: {}", text(&out.stderr));
        let m = std::fs::read_to_string(s.0.join("run/metrics.json")).unwrap();
        assert!(m.contains("\"test_error_parametric\": "), "{m}");
        assert!(s.0.join("run/parametric.png").exists());
    }
}

/// A tmpfs of `kib` KiB mounted at `dir` for one test (as root; CI runs as root), and
/// unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, kib: usize) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir)
            .output()
            .ok()?;
        if !out.status.success() {
            // Only a user who may not mount is excused; as root (as CI runs) it must work.
            let root = unsafe { libc::geteuid() } == 0;
            assert!(
                !root,
                "cannot mount a small tmpfs as root: {}",
                text(&out.stderr)
            );
            eprintln!(
                "SKIPPED: the full-disk case mounts a tmpfs, which needs root ({})",
                text(&out.stderr).trim()
            );
            return None;
        }
        Some(SmallDisk(dir.to_path_buf()))
    }
    fn resize(&self, kib: usize) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Files whose names say they are temporaries of an atomic write.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_full_disk_loses_nothing_written_before_and_leaves_no_temporary() {
    let s = scratch("fulldisk");
    s.write(
        "case.rrae",
        SMALL_RUN.replace("STEPS", "40\n    checkpoint_every = 10"),
    );
    // Training's files fit in 144 KiB (about 112 KiB at a checkpoint, with the old and
    // new checkpoint and artifact side by side); the end of the run (model files,
    // latents, four plots: about 220 KiB in all) does not.
    let Some(disk) = SmallDisk::mount(&s.0.join("disk"), 144) else {
        return;
    };
    let out = s.rrae(&["run", "case.rrae", "--out", "disk/run", "-q"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let run = s.0.join("disk/run");
    assert_eq!(
        temporaries(&run),
        Vec::<String>::new(),
        "temporaries left on a full disk"
    );
    // The training record is whole: every step logged once, a readable checkpoint.
    let losses = std::fs::read_to_string(run.join("losses.csv")).unwrap();
    assert_eq!(losses.lines().count(), 1 + 40 + 2, "{losses}");
    let ck = rrae_checkpoint_reads(&run);
    assert!(ck, "the checkpoint does not read back");
    // With room again, `rrae eval` finishes the job from model.safetensors.
    assert!(
        run.join("model.safetensors").is_file(),
        "the model files come first"
    );
    disk.resize(1024);
    let eval = s.rrae(&["eval", "disk/run"]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    assert!(run.join("model.rra").is_file());
    // A disk full from the start: the run stops at its first checkpoint, and the logs
    // written so far are not emptied.
    std::fs::remove_dir_all(&run).unwrap();
    disk.resize(24);
    let out = s.rrae(&["run", "case.rrae", "--out", "disk/run", "-q"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(temporaries(&run), Vec::<String>::new());
    let losses = std::fs::read_to_string(run.join("losses.csv")).unwrap_or_default();
    assert!(
        losses.starts_with("phase,step,k,loss,validation,penalty,ms\n"),
        "losses.csv emptied: {losses:?}"
    );
}

/// Whether `dir`'s checkpoint reads back (through `rrae run --resume`'s reader).
fn rrae_checkpoint_reads(dir: &Path) -> bool {
    let bytes = std::fs::read(dir.join("checkpoint.safetensors")).unwrap_or_default();
    rrae_train::checkpoint::Checkpoint::from_bytes(&bytes).is_ok()
}

#[test]
fn a_gzip_bomb_and_a_truncated_artifact_are_clear_errors() {
    let s = scratch("bomb");
    // An IDX.gz whose header declares 3 samples of 4 × 4, followed by 64 MiB of zeros
    // and a cut: reading stops at the declared samples (the cut is never reached).
    let mut raw = vec![0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 4];
    raw.extend((0..48u8).map(|v| v * 5));
    raw.resize(raw.len() + (64 << 20), 0);
    let gz = {
        let mut z = Command::new("gzip")
            .args(["-1", "-c"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = z.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&raw));
        let out = z.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        out.stdout
    };
    s.write("bomb-images-idx3-ubyte.gz", &gz[..gz.len() * 3 / 4]);
    let mut test = vec![0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4];
    test.extend([7u8; 32]);
    s.write("test-images-idx3-ubyte", &test);
    s.write(
        "case.rrae",
        model(
            "idx(train = \"bomb-images-idx3-ubyte.gz\", test = \"test-images-idx3-ubyte\")",
            1,
            "",
        ),
    );
    let out = s.rrae(&["run", "case.rrae", "--out", "run", "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m = std::fs::read_to_string(s.0.join("run/metrics.json")).unwrap();
    assert!(m.contains("\"train_samples\": 3"), "{m}");
    // A truncated artifact: the message says what happened and how to get it back.
    let art = std::fs::read(s.0.join("run/model.rra")).unwrap();
    for cut in [10, 20, art.len() / 2] {
        std::fs::write(s.0.join("cut.rra"), &art[..cut]).unwrap();
        let out = s.rrae(&["inspect", "cut.rra"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            !err.contains("panicked") && !err.contains("rancor"),
            "{err}"
        );
        assert!(
            err.contains("the artifact is damaged") || err.contains("not an rrae artifact"),
            "{err}"
        );
    }
}

/// A Ctrl-C during the evaluation (no training step left to stop after) ends the run
/// at once and says how to continue; `rrae eval` then writes what it did not.
#[test]
fn a_ctrl_c_at_the_end_of_a_run_ends_it_at_once_and_says_how_to_continue() {
    let s = scratch("ctrlc2");
    // Training is short; evaluation (many generated samples) takes seconds.
    let src = SMALL_RUN
        .replace("STEPS", "5")
        .replace("random_samples = 0", "random_samples = 15000");
    s.write("case.rrae", &src);
    let child = background_run_to(&s, "run", Stdio::piped());
    // model.safetensors is written when training is done, before evaluating.
    wait_for("the end of training", || {
        s.0.join("run/model.safetensors").is_file()
    });
    let pid = child.id() as i32;
    unsafe { libc::kill(pid, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    if out.status.code() == Some(0) {
        // Evaluation finished before the signal: nothing to say then.
        assert!(s.0.join("run/model.rra").is_file());
        return;
    }
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("stopped outside the training steps") && err.contains("`rrae eval run`"),
        "{err}"
    );
    // And that is what brings the artifact back.
    assert!(s.rrae(&["eval", "run"]).status.success());
    assert!(s.0.join("run/model.rra").is_file());
}

/// `--resume` of a finished run says so and changes nothing (it used to train from the
/// last checkpoint again and replace losses.csv); a finished run keeps no checkpoint.
#[test]
fn resuming_a_finished_run_changes_nothing() {
    let s = scratch("finished");
    s.write(
        "case.rrae",
        SMALL_RUN.replace("STEPS", "30\n    checkpoint_every = 10"),
    );
    let out = s.rrae(&[
        "run",
        "case.rrae",
        "--out",
        "run",
        "-q",
        "--stop-after",
        "15",
    ]);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let out = s.rrae(&["run", "case.rrae", "-q", "--resume", "run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !s.0.join("run/checkpoint.safetensors").exists(),
        "a finished run keeps no checkpoint"
    );
    let files = [
        "losses.csv",
        "metrics.json",
        "model.safetensors",
        "model.rra",
        "events.jsonl",
    ];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(s.0.join("run").join(f)).unwrap())
        .collect();
    let out = s.rrae(&["run", "case.rrae", "-q", "--resume", "run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("is a finished run: nothing to resume, and nothing was changed"),
        "{err}"
    );
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(s.0.join("run").join(f)).unwrap(),
            b,
            "{f} changed"
        );
    }
}

/// `rrae compare` and `rrae sweep` take their output folder's lock: a second one into
/// the same `--out` is refused, naming the process that holds it (two compares mixed
/// their tables), and the folder is left as it was.
#[test]
fn compare_and_sweep_take_their_output_folders_lock() {
    let s = scratch("outlock");
    s.write("case.rrae", SMALL_RUN.replace("STEPS", "5"));
    std::fs::create_dir_all(s.0.join("out")).unwrap();
    // A live rrae process holds it (a language server waiting on its input; a PID of
    // another program would be a stale lock, taken over).
    let mut holder = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let me = holder.id();
    std::fs::write(s.0.join("out/.lock"), format!("{me}\n")).unwrap();
    for args in [
        &["compare", "case.rrae", "--out", "out", "-q"][..],
        &[
            "sweep",
            "case.rrae",
            "--set",
            "train.seed=0..1",
            "--out",
            "out",
        ],
    ] {
        let out = s.rrae(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!("in use by rrae process {me}")),
            "{args:?}: {err}"
        );
        let left: Vec<String> = std::fs::read_dir(s.0.join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            left.iter().all(|n| n == ".lock" || n == "logs"),
            "{args:?}: {left:?}"
        );
    }
    // Free again: it runs, and leaves no lock behind.
    let _ = holder.kill();
    let _ = holder.wait();
    std::fs::remove_file(s.0.join("out/.lock")).unwrap();
    let out = s.rrae(&["compare", "case.rrae", "--out", "out", "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!s.0.join("out/.lock").exists());
}

/// Issue 40, finding 5: `rrae eval` of a run folder whose model.safetensors is another
/// model's is refused, nothing in the folder changes, and the help says how to evaluate
/// those weights; a run trained with `--set` still evaluates (its weights record the
/// text it trained from, as metrics.json does).
#[test]
fn eval_refuses_another_models_weights_and_changes_nothing() {
    let s = scratch("evalforeign");
    s.write("d.npy", varied_npy(7));
    s.write("a.rrae", model("npy(train = \"d.npy\")", 2, ""));
    s.write("b.rrae", model("npy(train = \"d.npy\")", 1, ""));
    for (file, dir) in [("a.rrae", "a"), ("b.rrae", "b")] {
        let out = s.rrae(&["run", file, "--out", dir, "-q", "--set", "train.lr=0.002"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let ok = s.rrae(&["eval", "a"]);
    assert!(
        ok.status.success(),
        "a --set run evaluates: {}",
        text(&ok.stderr)
    );
    std::fs::copy(s.path("b/model.safetensors"), s.path("a/model.safetensors")).unwrap();
    let snapshot = || -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(s.path("a"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        v.sort();
        v
    };
    let before = snapshot();
    let out = s.rrae(&["eval", "a"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("it holds another model's weights")
            && err.contains("nothing was written")
            && err.contains("rrae eval NEW"),
        "{err}"
    );
    assert!(before == snapshot(), "the run folder changed");
}

/// Issue 40 (minor): `rrae compare` of a run folder that is still training says so and
/// names the process, instead of asking whether it is a run folder at all.
#[test]
fn compare_of_a_live_run_says_it_is_still_training() {
    let s = scratch("comparelive");
    s.write("case.rrae", SMALL_RUN.replace("STEPS", "100000000"));
    let mut run = background_run(&s, "live");
    wait_for("the run's lock", || s.0.join("live/.lock").is_file());
    let out = s.rrae(&["compare", "live", "--out", "cmp"]);
    let err = text(&out.stderr);
    let _ = run.kill();
    let _ = run.wait();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "the run is still training (rrae process {} holds",
            run.id()
        )),
        "{err}"
    );
}

/// Issue 40, finding 1's SIGTERM: outside the training steps (here a long evaluation)
/// one SIGTERM ends the run at once with the way to continue, where before it only asked
/// for a stop after a step that would never come and the evaluation ran to its end.
#[test]
fn one_sigterm_during_the_evaluation_ends_the_run_at_once() {
    let s = scratch("sigterm-eval");
    s.write(
        "case.rrae",
        "data b = gaussian_bumps(grid = 64, train_per_axis = 4, test = 4)\nmodel small {\n    input [1, 64, 64]\n    encoder { flatten linear(16) }\n    latent svd_truncate(k = 2)\n    decoder { linear(4096) reshape([1, 64, 64]) }\n}\ntrain {\n    steps = 2\n    fine_tune_steps = 1\n    batch = 8\n}\neval {\n    random_samples = 10000\n    interpolation_pairs = 1\n}\n",
    );
    let run = background_run_to(&s, "run", Stdio::piped());
    // Training is done once the weights are written; 10,000 samples' bump fits follow.
    wait_for("the trained weights", || {
        s.0.join("run/model.safetensors").is_file()
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sent = std::time::Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = run.wait_with_output().unwrap();
    let waited = sent.elapsed();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("stopped outside the training steps"), "{err}");
    assert!(err.contains("rrae eval"), "{err}");
    assert!(
        !s.0.join("run/metrics.json").exists(),
        "the evaluation did not finish"
    );
    assert!(
        waited < std::time::Duration::from_secs(10),
        "it took {waited:?} to stop"
    );
}
