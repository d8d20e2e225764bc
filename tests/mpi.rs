//! Beyond one machine: the default build links no MPI, and the MPI collective works
//! across real processes under `mpirun` (OpenMPI in CI: `.ci/run` installs it).
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
    mpirun();
    let built = cargo(&[
        "build",
        "--offline",
        "-q",
        "-p",
        "rrae-engine",
        "--features",
        "mpi",
        "--example",
        "collectives",
    ]);
    assert!(
        built.status.success(),
        "building the MPI example failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let program = root().join("target/mpi/debug/examples/collectives");
    for n in [2, 3] {
        let out = run_ranks(n, &program, &[]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{n} ranks:\n{text}");
        for r in 0..n {
            assert!(
                text.contains(&format!("rank {r} of {n}: ok")),
                "{n} ranks:\n{text}"
            );
        }
    }
}
