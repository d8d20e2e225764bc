//! The Python package (`python/`), built and tested as a user installs it: a venv
//! under `target/py-venv` with maturin, numpy and pytest from PyPI, the abi3 wheel
//! built by `python/build-wheel.sh` into `target/wheels/` (with the `rrae` command in
//! it) and installed with pip, then `pytest python/tests`: the extension's `encode`,
//! `decode` and `sample` against this package's `rrae` binary bit for bit, and
//! training from Python (`rrae.run`, `rrae.check`, run folders).
//!
//! The extension builds in its own target folder (`target/python`); the venv and that
//! folder are kept between runs.
//!
//! The same venv runs `examples/signals/make_data.py`, whose arrays the shipped
//! parametric examples read.

use std::process::Command;

#[path = "common/venv.rs"]
mod venv;
use venv::{root, run, venv};

#[test]
fn the_python_extension_agrees_with_the_cli() {
    let root = root();
    let bin = venv();
    // The wheel .ci/run builds (python/build-wheel.sh), installed as a user would.
    run(
        Command::new("bash")
            .arg(root.join("python/build-wheel.sh"))
            .env("RRAE_WHEEL_COMMAND", env!("CARGO_BIN_EXE_rrae"))
            .current_dir(&root),
        "python/build-wheel.sh",
    );
    let wheels = root.join("target/wheels");
    let wheel = std::fs::read_dir(&wheels)
        .unwrap_or_else(|e| panic!("{}: {e}", wheels.display())) // ok: test
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .unwrap_or_else(|| panic!("build-wheel.sh wrote no wheel")); // ok: test
    assert!(
        wheel.to_string_lossy().contains("-abi3-"),
        "not an abi3 wheel: {}",
        wheel.display()
    );
    run(
        Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(["--force-reinstall", "--no-deps"])
            .arg(&wheel),
        "pip install the wheel",
    );
    let log = run(
        Command::new(bin.join("python"))
            .current_dir(&root)
            .env("RRAE_BIN", env!("CARGO_BIN_EXE_rrae"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args([
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "python/tests",
            ]),
        "pytest python/tests",
    );
    assert!(
        log.contains("23 passed"),
        "expected 23 passing tests:\n{log}"
    );
}

/// `make_data.py` writes what the signal examples read, and the shifted-sine example
/// trains on it and predicts its test signals from their shifts alone.
#[test]
fn the_signal_examples_data_is_made_by_its_script_and_shift_runs_on_it() {
    let root = root();
    let bin = venv();
    let dir = root.join("target/tmp/signals-example");
    let _ = std::fs::remove_dir_all(&dir); // ok: only this test's output
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())); // ok: test
    let log = run(
        Command::new(bin.join("python"))
            .arg(root.join("examples/signals/make_data.py"))
            .arg(dir.join("data")),
        "make_data.py",
    );
    assert!(
        log.contains(
            "mult_freqs: 225 training and 1000 test samples of 1571 points, 2 parameter(s)"
        ),
        "{log}"
    );
    assert!(
        log.contains("shift: 4 training and 498 test samples of 200 points, 1 parameter(s)"),
        "{log}"
    );
    for name in ["mult_freqs.rrae", "shift.rrae"] {
        std::fs::copy(root.join("examples/signals").join(name), dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}")); // ok: test
        run(
            Command::new(env!("CARGO_BIN_EXE_rrae"))
                .arg("check")
                .arg(dir.join(name)),
            "rrae check",
        );
    }
    let out = dir.join("run");
    run(
        Command::new(env!("CARGO_BIN_EXE_rrae"))
            .arg("run")
            .arg(dir.join("shift.rrae"))
            .args(["--steps", "300", "--fine-tune-steps", "20", "-q", "--out"])
            .arg(&out),
        "rrae run shift.rrae",
    );
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("metrics.json")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("metrics.json: {e}")); // ok: test
    let e = metrics["metrics"]["test_error_parametric"].as_f64();
    assert!(e.is_some_and(|e| e.is_finite() && e > 0.0), "{metrics}");
    assert!(out.join("parametric.png").exists());
}
