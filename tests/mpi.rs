//! Beyond one machine: the default build links no MPI; the MPI collective works across
//! real processes under `mpirun` (OpenMPI in CI: `.ci/run` installs it); and `mpirun -np
//! N rrae run` trains as one process does (the same decisions, the losses within a stated
//! tolerance), the same bits for the same N, refuses what it cannot run, and a killed
//! rank ends the job and leaves a checkpoint that resumes.
//!
//! The MPI programs build in their own target folder (`target/mpi`, kept between runs),
//! with the `mpi` feature that the default build leaves off.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `mpirun`, or a failure that says how to install it (never a silent pass).
fn mpirun() -> &'static str {
    let found = Command::new("mpirun").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "mpirun is missing: install OpenMPI with\n  apt-get install -y --no-install-recommends openmpi-bin libopenmpi-dev libclang-dev"
    );
    "mpirun"
}

fn cargo(args: &[&str]) -> std::process::Output {
    Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .current_dir(root())
        .env("CARGO_TARGET_DIR", root().join("target/mpi"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cargo: {e}")) // ok: test
}

/// `mpirun -np n program`, as root if need be, more ranks than cores allowed.
fn run_ranks(n: usize, program: &Path, args: &[&str]) -> std::process::Output {
    Command::new(mpirun())
        .args([
            "--allow-run-as-root",
            "--oversubscribe",
            "-np",
            &n.to_string(),
        ])
        .arg(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("mpirun: {e}")) // ok: test
}

/// `cargo build` of `what` with the `mpi` feature, in `target/mpi` (mpirun checked first).
/// Not `--offline`: the feature's crates (rsmpi, bindgen and theirs) are in Cargo.lock
/// but a clean clone's `cargo test` downloads only what the default build uses, so the
/// first MPI build fetches them from crates.io (CI failed on exactly that).
fn build(what: &[&str]) {
    mpirun();
    let mut args = vec!["build", "-q", "--features", "mpi"];
    args.extend(what);
    let built = cargo(&args);
    assert!(
        built.status.success(),
        "building {what:?} with MPI failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

/// `rrae` built with the `mpi` feature (once per test process).
fn rrae_mpi() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        build(&["-p", "rrae"]);
        root().join("target/mpi/debug/rrae")
    })
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A scratch folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("rrae-mpi-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("{e}")); // ok: test
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0); // ok: best effort
    }
}

/// `rrae run FILE ARGS --out OUT` on `n` ranks (`n = 1`: one process, no launcher).
fn train(n: usize, file: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = vec!["run"];
    let (file, out) = (file.to_string_lossy(), out.to_string_lossy());
    all.extend([
        file.as_ref(),
        "--device",
        "cpu",
        "-q",
        "--out",
        out.as_ref(),
    ]);
    all.extend(args);
    if n == 1 {
        return Command::new(rrae_mpi())
            .args(&all)
            .output()
            .unwrap_or_else(|e| panic!("rrae: {e}")); // ok: test
    }
    run_ranks(n, rrae_mpi(), &all)
}

/// A run refused before training: a non-zero exit, `message` said, no log written.
fn refused(out: &std::process::Output, message: &str, dir: &Path) {
    let t = text(out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains(message), "{t}");
    assert!(!dir.join("losses.csv").exists(), "{t}");
}

/// `text` written to `name` in `dir`; its path.
fn model_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}")); // ok: test
    path
}

/// losses.csv's phase, step, k and loss columns (the last, wall time, varies).
fn trace(dir: &Path) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(dir.join("losses.csv")).unwrap_or_default();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[..3].join(","), f[3].parse().unwrap_or(f64::NAN))
        })
        .collect()
}

/// metrics.json's test error (original units).
fn test_error(dir: &Path) -> f64 {
    let m = file(dir, "metrics.json");
    let at = m
        .find("\"test_error\":")
        .unwrap_or_else(|| panic!("no test_error in {m}")); // ok: test
    m[at + "\"test_error\":".len()..]
        .split([',', '\n'])
        .next()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

fn file(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    // ok: test
}

/// The quickstart (annealed rank 32 → 2) for 200 + 50 steps on 1, 2 and 3 ranks with
/// the same global batch: the same decisions (step, action, rank), the same first loss,
/// the losses within 5 % at any step and 0.3 % on average, the test error within 0.1 %
/// (measured here: 1.8e-2 at worst, at step 166 of the annealing, 8e-4 on average; test
/// error 42.625 % on one rank, 42.628 % on two, 42.610 % on three: f32 gradients summed
/// per shard and then over ranks are added in another order than one process adds
/// them). The same N twice gives the same bits.
#[test]
fn the_quickstart_on_2_and_3_ranks_trains_as_one_process_does() {
    let s = Scratch::new("quickstart");
    let quickstart = root().join("examples/quickstart.rrae");
    let args = ["--steps", "200", "--fine-tune-steps", "50"];
    let dirs: Vec<PathBuf> = ["1", "2a", "2b", "3"].iter().map(|n| s.0.join(n)).collect();
    for (n, dir) in [1, 2, 2, 3].into_iter().zip(&dirs) {
        let out = train(n, &quickstart, dir, &args);
        assert!(out.status.success(), "{n} ranks:\n{}", text(&out));
    }
    let one = trace(&dirs[0]);
    assert_eq!(one.len(), 250);
    assert_eq!(trace(&dirs[1]), trace(&dirs[2]), "2 ranks twice");
    assert_eq!(
        file(&dirs[1], "decisions.jsonl"),
        file(&dirs[2], "decisions.jsonl")
    );
    // Each decision less the loss it saw (which differs in the last bits).
    let decided = |dir: &Path| -> Vec<String> {
        file(dir, "decisions.jsonl")
            .lines()
            .map(|l| {
                l.split(',')
                    .filter(|f| !f.starts_with("\"loss\""))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    };
    for dir in &dirs[1..] {
        let other = trace(dir);
        assert_eq!(decided(&dirs[0]), decided(dir), "{}", dir.display());
        let rel: Vec<f64> = one
            .iter()
            .zip(&other)
            .map(|((s1, a), (s2, b))| {
                assert_eq!(s1, s2);
                (a - b).abs() / a.abs()
            })
            .collect();
        let worst = rel.iter().copied().fold(0.0, f64::max);
        let mean = rel.iter().sum::<f64>() / rel.len() as f64;
        let (t1, tn) = (test_error(&dirs[0]), test_error(dir));
        eprintln!(
            "{}: losses within {worst:.1e} relative of one process's (mean {mean:.1e}); test error {tn} against {t1}",
            dir.display()
        );
        assert!(
            worst < 5e-2 && mean < 3e-3,
            "{}: losses differ by {worst:e} (mean {mean:e})",
            dir.display()
        );
        assert!(
            (tn - t1).abs() < 1e-3 * t1,
            "{}: test error {tn} against {t1}",
            dir.display()
        );
        assert_eq!(one[0], other[0], "the first step's loss");
    }
}

/// A small adaptive RRAE (Algorithm 1) finds the same k* on 3 ranks as on one.
#[test]
fn an_adaptive_search_finds_the_same_k_on_3_ranks() {
    let s = Scratch::new("adaptive");
    let model = model_file(
        &s.0,
        "arrae.rrae",
        "data b = gaussian_bumps(grid = 16, train_per_axis = 10, test = 20, sigma = 0.25)
model a {
    input [1, 16, 16]
    encoder { flatten linear(64) relu linear(24) }
    latent svd_truncate(k = adaptive, patience = 60, window = 20)
    decoder { linear(64) relu linear(256) reshape([1, 16, 16]) }
}
train { steps = 900 fine_tune_steps = 20 batch = 25 lr = 2e-3 }
",
    );
    let k = |n: usize| -> String {
        let dir = s.0.join(format!("r{n}"));
        let out = train(n, &model, &dir, &[]);
        assert!(out.status.success(), "{n} ranks:\n{}", text(&out));
        let m: String = file(&dir, "metrics.json");
        let at = m.find("\"k\":").unwrap_or_else(|| panic!("no k in {m}")); // ok: test
        m[at..].split([',', '\n']).next().unwrap_or("").to_string()
    };
    let (one, three) = (k(1), k(3));
    assert_eq!(one, three);
}

#[test]
fn more_ranks_than_a_batch_has_samples_is_refused_before_training() {
    let s = Scratch::new("small");
    let model = model_file(
        &s.0,
        "tiny.rrae",
        "data b = gaussian_bumps(grid = 8, train_per_axis = 3, test = 4)
model t { input [1, 8, 8] encoder { flatten linear(8) } latent svd_truncate(k = 1) decoder { linear(64) reshape([1, 8, 8]) } }
train { steps = 10 fine_tune_steps = 2 batch = 2 }
",
    );
    let out = train(3, &model, &s.0.join("out"), &[]);
    refused(&out, "3 ranks for a batch of 2 samples", &s.0.join("out"));
}

/// Ranks started with different model files (MPMD launch) are refused on every rank.
#[test]
fn ranks_with_different_model_files_are_refused() {
    let s = Scratch::new("mpmd");
    let quickstart = root().join("examples/quickstart.rrae");
    let other = s.0.join("other.rrae");
    let text0 = std::fs::read_to_string(&quickstart).unwrap_or_default();
    std::fs::write(&other, text0.replace("steps = 3000", "steps = 2999"))
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let bin = rrae_mpi().to_string_lossy().to_string();
    let (q, o) = (quickstart.to_string_lossy(), other.to_string_lossy());
    let out_dir = s.0.join("out");
    let out_dir = out_dir.to_string_lossy();
    let args = [
        "run",
        "--device",
        "cpu",
        "-q",
        "--steps",
        "5",
        "--out",
        out_dir.as_ref(),
    ];
    let mut cmd = Command::new(mpirun());
    cmd.args(["--allow-run-as-root", "--oversubscribe", "-np", "1", &bin])
        .args(args)
        .arg(q.as_ref());
    cmd.args([":", "-np", "1", &bin]).args(args).arg(o.as_ref());
    let out = cmd.output().unwrap_or_else(|e| panic!("mpirun: {e}")); // ok: test
    refused(&out, "differs from rank 0's on rank [1]", &s.0.join("out"));
}

/// `kill -9` of one rank mid-run: every process has exited, non-zero, within 30 s; the
/// checkpoint rank 0 wrote opens, and `--resume` on 2 ranks completes the run 3 began.
#[test]
fn a_killed_rank_ends_every_rank_and_the_run_resumes() {
    let s = Scratch::new("kill");
    let model = model_file(
        &s.0,
        "long.rrae",
        "data b = gaussian_bumps(grid = 16, train_per_axis = 8, test = 20, sigma = 0.25)
model long { input [1, 16, 16] encoder { flatten linear(64) relu linear(16) } latent svd_truncate(k = 3) decoder { linear(64) relu linear(256) reshape([1, 16, 16]) } }
train { steps = 40000 fine_tune_steps = 20 batch = 16 checkpoint_every = 25 }
",
    );
    let dir = s.0.join("out");
    let bin = rrae_mpi().to_string_lossy().to_string();
    let mut job = Command::new(mpirun())
        .args([
            "--allow-run-as-root",
            "--oversubscribe",
            "-np",
            "3",
            &bin,
            "run",
        ])
        .arg(&model)
        .args(["--device", "cpu", "-q", "--out"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("mpirun: {e}")); // ok: test
    let checkpoint = dir.join("checkpoint.safetensors");
    let t0 = std::time::Instant::now();
    while !checkpoint.exists() && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(checkpoint.exists(), "no checkpoint after 120 s");
    // The ranks are mpirun's children; kill the last of them (not rank 0, which writes).
    let kids = Command::new("pgrep")
        .args(["-P", &job.id().to_string()])
        .output()
        .unwrap_or_else(|e| panic!("pgrep: {e}")); // ok: test
    let pids: Vec<String> = String::from_utf8_lossy(&kids.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(pids.len(), 3, "{pids:?}");
    let killed = std::time::Instant::now();
    let _ = Command::new("kill").args(["-9", &pids[2]]).status();
    let status = loop {
        if let Ok(Some(st)) = job.try_wait() {
            break st;
        }
        assert!(
            killed.elapsed().as_secs() < 30,
            "the job still runs 30 s after a rank was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(!status.success());
    // Every rank has exited by then (a zombie not yet reaped has exited too).
    let alive = |pid: &String| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|st| {
            st.rsplit(')')
                .next()
                .is_some_and(|r| !r.trim_start().starts_with('Z'))
        })
    };
    while pids.iter().any(alive) {
        assert!(
            killed.elapsed().as_secs() < 30,
            "a rank still runs 30 s after one was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    eprintln!(
        "every rank ended {:.1} s after the kill",
        killed.elapsed().as_secs_f64()
    );
    // A checkpoint belongs to no number of ranks: 2 ranks continue what 3 began, to a
    // shorter length than the file's 40,000 (a resume may be given other lengths), so
    // the test trains seconds rather than minutes.
    let resumed = run_ranks(
        2,
        rrae_mpi(),
        &[
            "run",
            &model.to_string_lossy(),
            "--device",
            "cpu",
            "-q",
            "--resume",
            &dir.to_string_lossy(),
            "--steps",
            "3000",
        ],
    );
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert!(
        text(&resumed).contains("resuming with --steps 3000"),
        "{}",
        text(&resumed)
    );
    let t = trace(&dir);
    assert_eq!(t.len(), 3020, "the resumed run's log covers every step");
}

#[test]
fn the_default_build_links_no_mpi() {
    let out = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .current_dir(root())
        .args([
            "tree",
            "--offline",
            "-p",
            "rrae",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cargo tree: {e}")); // ok: test
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && tree.contains("rrae-engine"),
        "{tree}"
    );
    let mpi: Vec<&str> = tree
        .lines()
        .filter(|l| {
            l.starts_with("mpi ") || l.starts_with("mpi-sys ") || l.starts_with("build-probe-mpi ")
        })
        .collect();
    assert!(mpi.is_empty(), "the default build depends on {mpi:?}");
}

#[test]
fn the_mpi_collective_agrees_across_2_and_3_ranks() {
    build(&["-p", "rrae-engine", "--example", "collectives"]);
    let program = root().join("target/mpi/debug/examples/collectives");
    for n in [2, 3] {
        let out = run_ranks(n, &program, &[]);
        let text = text(&out);
        assert!(out.status.success(), "{n} ranks:\n{text}");
        for r in 0..n {
            assert!(
                text.contains(&format!("rank {r} of {n}: ok")),
                "{n} ranks:\n{text}"
            );
        }
    }
}
