//! `--set`, `rrae sweep` and the run folder's record of how a run was asked for, played
//! as a researcher would: settings changed without editing the file, a sweep over
//! k and seeds, interrupted and continued, and the resume hint followed verbatim.

#[path = "common/browser.rs"]
mod browser;
#[path = "common/scratch.rs"]
mod scratch;
use scratch::Scratch;

const TINY: &str = include_str!("fixtures/tiny.rrae");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json(path: std::path::PathBuf) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap() // ok: test
}

#[test]
fn set_changes_the_file_as_if_written_and_the_folder_records_it() {
    let s = Scratch::new("sweep", "set");
    s.write("tiny.rrae", TINY);
    let out = s.rrae(&[
        "check",
        "tiny.rrae",
        "--set",
        "latent.k=3",
        "--set",
        "train.lr=3e-4",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ir = text(&out.stdout);
    assert!(ir.contains("svd_truncate(k=3)"), "{ir}");
    assert!(ir.contains("lr 3e-4,"), "{ir}");
    // Checked exactly as the file is: the file's diagnostic, and a note naming the --set.
    let out = s.rrae(&["check", "tiny.rrae", "--set", "latent.k=9"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("k = 9 exceeds min(L, batch)"), "{err}");
    assert!(
        err.contains("note: checked with --set latent.k=9 applied"),
        "{err}"
    );
    // A bad value or a path the file has no place for: coded diagnostics pointing
    // into the --set.
    let out = s.rrae(&["check", "tiny.rrae", "--set", "train.lr=(3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("error[E043]: `(3` is not a value") && err.contains("--> --set:1:10"),
        "{err}"
    );
    let out = s.rrae(&["check", "tiny.rrae", "--set", "L=4"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("error[E044]") && err.contains("no `let L`"),
        "{err}"
    );
    // Every section: a `let`, the data source, the whole latent line, an eval setting.
    s.write(
        "let.rrae",
        format!("let W = 8\n{}", TINY.replace("linear(8) }", "linear(W) }")),
    );
    let out = s.rrae(&[
        "check",
        "let.rrae",
        "--set",
        "W=6",
        "--set",
        "data.test=5",
        "--set",
        "latent=svd_truncate(k = adaptive)",
        "--set",
        "eval.random_samples=3",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ir = text(&out.stdout);
    for want in [
        "-> latent [6]",
        "test=5",
        "svd_truncate(k=adaptive",
        "random_samples 3",
    ] {
        assert!(ir.contains(want), "{want}: {ir}");
    }
    // A run: the text that trained, the assignments and the command are in the folder.
    let out = s.rrae(&[
        "run",
        "tiny.rrae",
        "-q",
        "--out",
        "r",
        "--set",
        "latent.k=3",
        "--set",
        "train.steps=20",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m = json(s.path("r/metrics.json"));
    assert_eq!(
        m["set"],
        serde_json::json!(["latent.k=3", "train.steps=20"])
    );
    assert_eq!(m["k"], 3);
    assert_eq!(m["train_steps_done"], 20);
    assert!(m["source"]
        .as_str()
        .unwrap()
        .contains("svd_truncate(k = 3)")); // ok: test
    let c = json(s.path("r/command.json"));
    assert_eq!(c["overrides"]["set"][0]["value"], "3");
    // `rrae eval` re-checks the text that trained, so it keeps the --set.
    let out = s.rrae(&["eval", "r", "--device", "cpu"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("latent rank 3"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn the_resume_hint_is_the_whole_command_and_resume_repeats_the_overrides() {
    let s = Scratch::new("sweep", "resume");
    s.write("tiny.rrae", TINY);
    let args = [
        "run",
        "tiny.rrae",
        "-q",
        "--out",
        "r",
        "--set",
        "latent.k=3",
        "--seed",
        "4",
    ];
    let out = s.rrae(&[&args[..], &["--stop-after", "15"]].concat());
    assert_eq!(out.status.code(), Some(130));
    let err = text(&out.stderr);
    assert!(
        err.contains("continue with `rrae run tiny.rrae --resume r`"),
        "{err}"
    );
    // Other options are refused with what the run started with.
    let out = s.rrae(&[
        "run",
        "tiny.rrae",
        "-q",
        "--resume",
        "r",
        "--set",
        "latent.k=2",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("started with --set latent.k=3 --seed 4"),
        "{err}"
    );
    // A file changed since is named as such, not as a foreign checkpoint.
    s.write("tiny.rrae", TINY.replace("steps = 40", "steps = 41"));
    let out = s.rrae(&["run", "tiny.rrae", "-q", "--resume", "r"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not the text this run started from"));
    s.write("tiny.rrae", TINY);
    // The hint as printed: the trace equals the uninterrupted run's.
    let out = s.rrae(&["run", "tiny.rrae", "-q", "--resume", "r"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = s.rrae(&[&args[..4], &["whole"], &args[5..]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(s.trace("r"), s.trace("whole"));
    assert_eq!(json(s.path("r/metrics.json"))["seed"], 4);
}

#[test]
fn a_sweep_runs_every_combination_continues_and_tabulates_over_seeds() {
    let s = Scratch::new("sweep", "sweep");
    s.write("tiny.rrae", TINY);
    let sweep = |extra: &[&str]| {
        let base = [
            "sweep",
            "tiny.rrae",
            "--set",
            "latent.k=1,2",
            "--set",
            "train.seed=0..1",
            "--steps",
            "12",
            "--fine-tune-steps",
            "2",
            "--out",
            "sw",
            "--device",
            "cpu",
        ];
        s.rrae(&[&base[..], extra].concat())
    };
    let out = sweep(&["-j", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let names = [
        "latent.k=1,train.seed=0",
        "latent.k=1,train.seed=1",
        "latent.k=2,train.seed=0",
        "latent.k=2,train.seed=1",
    ];
    for n in names {
        let m = json(s.path("sw").join(n).join("metrics.json"));
        assert_eq!(
            m["k"].as_u64(),
            Some(if n.contains("k=1") { 1 } else { 2 }),
            "{n}"
        );
        assert_eq!(
            m["seed"].as_u64(),
            Some(if n.ends_with('0') { 0 } else { 1 }),
            "{n}"
        );
        assert_eq!(m["train_steps_done"], 12, "{n}");
    }
    // The grouped table: one row per k, two seeds each, mean ± std equal to the runs'.
    let groups = json(s.path("sw/sweep.json"));
    assert_eq!(groups.as_array().map(Vec::len), Some(2));
    let tests: Vec<f64> = names[..2]
        .iter()
        .map(|n| {
            json(s.path("sw").join(n).join("metrics.json"))["metrics"]["test_error"]
                .as_f64()
                .unwrap()
        }) // ok: test
        .collect();
    let g = &groups[0];
    assert_eq!(g["settings"], serde_json::json!(["latent.k=1"]));
    let mean = (tests[0] + tests[1]) / 2.0;
    let std = ((tests[0] - mean).powi(2) + (tests[1] - mean).powi(2)).sqrt();
    assert!((g["test_error"]["mean"].as_f64().unwrap() - mean).abs() < 1e-12); // ok: test
    assert!((g["test_error"]["std"].as_f64().unwrap() - std).abs() < 1e-12); // ok: test
    let md = std::fs::read_to_string(s.path("sw/sweep.md")).unwrap(); // ok: test
    assert!(md.contains("| latent.k=1 | 2 | "), "{md}");
    // The compare page as a browser shows it: both tables, every figure decoded.
    let (dom, all) = browser::render(&s.path("sw/compare.html"));
    assert!(
        all,
        "not every figure decoded: {}",
        &dom[..dom.len().min(400)]
    );
    assert!(dom.contains("id=\"summary\"") && dom.contains("id=\"table\""));
    let html = std::fs::read_to_string(s.path("sw/compare.html")).unwrap(); // ok: test
    assert!(html.contains("<h2>Over seeds</h2>") && html.matches("<tr>").count() == 1 + 2 + 1 + 4);
    // Continued: finished runs are read, not trained again.
    let before = std::fs::read(s.path("sw").join(names[0]).join("losses.csv")).unwrap(); // ok: test
    std::fs::remove_dir_all(s.path("sw").join(names[3])).unwrap(); // ok: test
    let out = sweep(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert_eq!(o.matches("finished earlier").count(), 3, "{o}");
    assert_eq!(o.matches(": training").count(), 1, "{o}");
    assert_eq!(
        std::fs::read(s.path("sw").join(names[0]).join("losses.csv")).unwrap(),
        before
    ); // ok: test
       // A value that does not check fails before anything trains.
    let out = s.rrae(&[
        "sweep",
        "tiny.rrae",
        "--set",
        "latent.k=2,9",
        "--out",
        "bad",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("k = 9 exceeds"),
        "{}",
        text(&out.stderr)
    );
    assert!(!s.path("bad").exists());
}

/// After SIGINT the printed command, run verbatim by a shell, finishes the run with
/// the overrides it started with: the trace equals an uninterrupted run's.
#[cfg(unix)]
#[test]
fn the_command_printed_after_sigint_runs_verbatim_and_completes() {
    let s = Scratch::new("sweep", "sigint");
    s.write("tiny.rrae", TINY);
    let args = [
        "run",
        "tiny.rrae",
        "-q",
        "--set",
        "train.steps=600",
        "--set",
        "latent.k=3",
        "--seed",
        "5",
    ];
    let whole = s.rrae(&[&args[..], &["--out", "whole"]].concat());
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(args)
        .args(["--out", "cut run"])
        .current_dir(&s.0)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let events = s.path("cut run/events.jsonl");
    let started = |_| {
        std::thread::sleep(std::time::Duration::from_millis(5));
        std::fs::read_to_string(&events).map_or(0, |e| e.matches(r#""event":"step""#).count()) >= 20
    };
    assert!((0..24_000).any(started), "the run did not start");
    // SAFETY: a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}")); // ok: test
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let command = err
        .split("continue with `")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .unwrap_or_else(|| panic!("no command in: {err}")); // ok: test
    assert!(
        command.contains("'cut run'"),
        "the folder is quoted for the shell: {command}"
    );
    // Verbatim, through a shell, with the binary under test as `rrae`.
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_rrae"));
    let path = format!(
        "{}:{}",
        bin.parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        std::env::var("PATH").unwrap_or_default()
    );
    let resumed = std::process::Command::new("sh")
        .args(["-c", command])
        .current_dir(&s.0)
        .env("PATH", path)
        .output()
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert!(
        resumed.status.success(),
        "{command}: {}",
        text(&resumed.stderr)
    );
    assert_eq!(s.trace("cut run"), s.trace("whole"));
    assert_eq!(s.trace("whole").len(), 1 + 600 + 10);
}

/// A resumed run may be given other lengths: it says so and goes on to them; a length
/// shorter than what is done is refused with the reason.
#[test]
fn a_resume_may_lengthen_the_run_and_says_so() {
    let s = Scratch::new("sweep", "lengthen");
    s.write("tiny.rrae", TINY);
    let out = s.rrae(&[
        "run",
        "tiny.rrae",
        "-q",
        "--out",
        "r",
        "--set",
        "latent.k=3",
        "--stop-after",
        "15",
    ]);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let out = s.rrae(&["run", "tiny.rrae", "-q", "--resume", "r", "--steps", "10"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("it has trained 15 steps"), "{err}");
    let out = s.rrae(&["run", "tiny.rrae", "-q", "--resume", "r", "--steps", "60"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("note: resuming with --steps 60 (it started with the file's)"),
        "{err}"
    );
    let m = json(s.path("r/metrics.json"));
    assert_eq!(m["train_steps_done"], 60);
    assert_eq!(m["k"], 3);
    assert_eq!(json(s.path("r/command.json"))["overrides"]["steps"], 60);
}
