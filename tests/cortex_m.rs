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

/// The lines a workload output makes: `label i: n=N hash=H`.
fn line(label: &str, i: usize, v: &[f32]) -> String {
    format!("{label} {i}: n={} hash={:016x}", v.len(), workload::hash(v))
}

#[test]
fn the_board_decodes_samples_and_interpolates_as_the_host_does() {
    tools();
    let dir = std::env::temp_dir().join(format!("rrae-cortex-m-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let trained = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .current_dir(root())
        .args([
            "run",
            "examples/mlp_bumps.rrae",
            "--steps",
            "60",
            "--fine-tune-steps",
            "10",
        ])
        .args(["--device", "cpu", "-q", "--out"])
        .arg(dir.join("run"))
        .output()
        .unwrap_or_else(|e| panic!("rrae run: {e}")); // ok: test
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    let model = dir.join("run/model.rra");

    // The host's outputs, from the same file and the same workload.
    let bytes = std::fs::read(&model).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let mapped = rrae_artifact::Mapped::from_bytes(&bytes);
    let view = mapped.view().unwrap_or_else(|e| panic!("{e}")); // ok: test
    let mut want = vec![];
    workload::run(&view, &mut |l, i, v| want.push(line(l, i, v))).unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert!(want.len() >= 10, "{want:?}");

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
