//! The test venv under `target/py-venv` (maturin, numpy, pytest and tensorboard from
//! PyPI), shared by the tests that run Python (`#[path]`-included).

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `cmd`, failing the test with its output if it fails; returns its output.
pub fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}")); // ok: test
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{log}");
    log
}

/// The test venv's `bin` folder, with maturin, numpy and pytest installed (once per
/// test process: the tests share it).
pub fn venv() -> PathBuf {
    static READY: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut ready = READY.lock().unwrap_or_else(|e| e.into_inner());
    let venv = root().join("target/py-venv");
    let bin = venv.join("bin");
    if *ready {
        return bin;
    }
    if !bin.join("python").exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
    }
    // Installed once; pip answers at once when they are there.
    run(
        Command::new(bin.join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "maturin>=1.7,<2",
            "numpy>=1.23",
            "pytest>=7",
            // tests/tracking.rs reads the run's event file with TensorBoard's reader.
            "tensorboard>=2.14",
        ]),
        "pip install maturin numpy pytest tensorboard",
    );
    *ready = true;
    bin
}
