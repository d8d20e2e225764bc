//! A trained model on a microcontroller: the quick MLP bumps model is trained here,
//! embedded in the Cortex-M4F program of examples/cortex-m, built for
//! `thumbv7em-none-eabihf` and run under QEMU's `mps2-an386`; every output the board
//! prints (decodes, an interpolation, the coefficients, seeded samples) must have the
//! same bits as the same workload run by the host's artifact crate. A damaged artifact
//! must be refused on the board. Needs `qemu-system-arm` and the target (`.ci/run`
//! installs both); without them the test fails with the install command.

extern crate alloc;

#[path = "../examples/cortex-m/src/workload.rs"]
mod workload;

#[path = "common/npy.rs"]
mod npy;
use npy::{npy_f32, npy_f64_values};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fails with the install line when QEMU or the target is missing.
fn tools() {
    let qemu = Command::new("qemu-system-arm").arg("--version").output();
    assert!(
        qemu.is_ok_and(|o| o.status.success()),
        "qemu-system-arm is missing: apt-get install -y --no-install-recommends qemu-system-arm"
    );
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        targets.lines().any(|t| t.trim() == "thumbv7em-none-eabihf"),
        "the Cortex-M4F target is missing: rustup target add thumbv7em-none-eabihf"
    );
}

/// Builds the board program around `model` and runs it under QEMU.
fn on_board(model: &Path) -> Output {
    Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .current_dir(root().join("examples/cortex-m"))
        .env("CARGO_TARGET_DIR", root().join("target/cortex-m"))
        .env("RRAE_MODEL", model)
        // The host's flags (a coverage or sanitizer build) are not the board's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args(["run", "--release", "-q"])
        .output()
        .unwrap_or_else(|e| panic!("cargo run for the board: {e}")) // ok: test
}

/// The rows of `n` values of an f64 `.npy` (what `rrae sample` and `rrae decode`
/// write), as the f32 values they were computed as (f32 → f64 is exact).
fn npy_rows(path: &Path, n: usize) -> Vec<Vec<f32>> {
    let values: Vec<f32> = npy_f64_values(path).into_iter().map(|v| v as f32).collect();
    values.chunks(n).map(<[f32]>::to_vec).collect()
}

/// Runs the `rrae` command, which must succeed.
fn rrae(args: &[&std::ffi::OsStr]) {
    let out = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("rrae: {e}")); // ok: test
    assert!(
        out.status.success(),
        "rrae {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The lines a workload output makes: `label i: n=N hash=H`.
fn line(label: &str, i: usize, v: &[f32]) -> String {
    format!("{label} {i}: n={} hash={:016x}", v.len(), workload::hash(v))
}

#[test]
fn the_board_decodes_samples_and_interpolates_as_the_host_does() {
    tools();
    let dir = std::env::temp_dir().join(format!("rrae-cortex-m-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = dir.join("run");
    rrae(&[
        "run".as_ref(),
        "examples/mlp_bumps.rrae".as_ref(),
        "--steps".as_ref(),
        "60".as_ref(),
        "--fine-tune-steps".as_ref(),
        "10".as_ref(),
        "--device".as_ref(),
        "cpu".as_ref(),
        "-q".as_ref(),
        "--out".as_ref(),
        run.as_ref(),
    ]);
    let model = run.join("model.rra");

    // The host's outputs, from the same file and the same workload.
    let bytes = std::fs::read(&model).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let mapped = rrae_artifact::Mapped::from_bytes(&bytes);
    let view = mapped.view().unwrap_or_else(|e| panic!("{e}")); // ok: test
    let mut want = vec![];
    workload::run(&view, &mut |l, i, v| want.push(line(l, i, v))).unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert!(
        want.iter().filter(|l| l.starts_with("rom ")).count() == 2,
        "{want:?}"
    );
    assert!(want.len() >= 12, "{want:?}");

    let board = on_board(&model);
    let out = String::from_utf8_lossy(&board.stdout).into_owned();
    assert!(
        board.status.success(),
        "the board failed:\n{out}\n{}",
        String::from_utf8_lossy(&board.stderr)
    );
    let got: Vec<String> = out
        .lines()
        .filter(|l| l.contains(": n=") && l.contains("hash="))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        got, want,
        "the board's outputs differ from the host's:\n{out}"
    );
    assert!(out.contains("heap high-water mark"), "{out}");

    // The command line's decode and samples have the board's bits too.
    let coefficients = dir.join("coefficients.npy");
    std::fs::write(&coefficients, npy_f32(&workload::decode_inputs(&view)))
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let (decoded, sampled) = (dir.join("decoded.npy"), dir.join("sampled.npy"));
    rrae(&[
        "decode".as_ref(),
        model.as_ref(),
        coefficients.as_ref(),
        "-o".as_ref(),
        decoded.as_ref(),
    ]);
    let seed = workload::SEED.to_string();
    rrae(&[
        "sample".as_ref(),
        model.as_ref(),
        "-n".as_ref(),
        "2".as_ref(),
        "--seed".as_ref(),
        seed.as_ref(),
        "-o".as_ref(),
        sampled.as_ref(),
    ]);
    let n = view.input_len();
    let cli: Vec<String> = npy_rows(&decoded, n)
        .iter()
        .enumerate()
        .map(|(i, v)| line("decode", i, v))
        .chain(
            npy_rows(&sampled, n)
                .iter()
                .enumerate()
                .map(|(i, v)| line("sample", i, v)),
        )
        .collect();
    let board_lines: Vec<&String> = got
        .iter()
        .filter(|l| l.starts_with("decode ") || l.starts_with("sample "))
        .collect();
    assert_eq!(
        board_lines,
        cli.iter().collect::<Vec<_>>(),
        "rrae decode / rrae sample differ from the board"
    );

    // One flipped bit in the weights: refused by the verifying open, non-zero exit.
    let mut damaged = bytes.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 0x10;
    let bad = dir.join("damaged.rra");
    std::fs::write(&bad, &damaged).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let board = on_board(&bad);
    let out = String::from_utf8_lossy(&board.stdout).into_owned();
    assert!(!board.status.success(), "a damaged artifact ran:\n{out}");
    assert!(out.contains("error: the artifact is refused"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
