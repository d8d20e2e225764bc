//! rrae against a hostile user: inputs made to crash it, each a case from the hardening
//! issue. Every case asserts the exit code, the message (an insta snapshot of what the
//! user reads) and that nothing was left behind: no panic, no run folder, no stray file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A scratch folder per case, removed when the case ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(case: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("rrae-hostile-{case}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.0.join(name), bytes).unwrap();
    }
    /// The folder's entries, sorted.
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
    fn rrae(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rrae"))
            .args(args)
            .current_dir(&self.0)
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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

/// A small model on `data` (an `npy(…)` call), 4×4 inputs, latent 8, rank `k`.
fn model(data: &str, k: usize, extra: &str) -> String {
    format!(
        "{extra}data d = {data}\nmodel m {{\n    input [1, 4, 4]\n    encoder {{ flatten linear(8) }}\n    latent svd_truncate(k = {k})\n    decoder {{ linear(16) reshape([1, 4, 4]) }}\n}}\ntrain {{\n    steps = 5\n    fine_tune_steps = 1\n    batch = 4\n}}\n"
    )
}

#[test]
fn an_empty_training_file_is_refused_by_check_and_run_before_anything_is_written() {
    let s = Scratch::new("empty");
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
    let s = Scratch::new("split");
    s.write("one.npy", npy(1, 4, None));
    s.write("case.rrae", model("npy(train = \"one.npy\")", 1, ""));
    let err = refused(&s.rrae(&["check", "case.rrae"]), "E042");
    insta::assert_snapshot!("split_leaves_no_test_sample", err);
    refused(&s.rrae(&["run", "case.rrae", "--out", "run"]), "E042");
    assert_eq!(s.entries(), ["case.rrae", "one.npy"]);
}

#[test]
fn a_header_claiming_2_to_the_62_rows_is_refused_not_wrapped_to_zero() {
    let s = Scratch::new("huge");
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
    let s = Scratch::new("rank");
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
    let s = Scratch::new("chain");
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(["check", "examples/quickstart.rrae"])
        .current_dir(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before rrae writes (as `| head -c 0` would).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert_eq!(text(&out.stderr), "", "quiet, as `yes | head` is");
}
