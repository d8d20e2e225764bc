//! Records the commit the binary is built from, for `rrae --version`; with the
//! `inception` feature, also where libtorch's shared libraries are, so the binary finds
//! them without LD_LIBRARY_PATH.

use std::process::Command;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(hash) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("commit {hash}, with uncommitted changes")
            } else {
                format!("commit {hash}")
            }
        }
        None => "not built from a git checkout".to_string(),
    };
    println!("cargo:rustc-env=RRAE_COMMIT={commit}");
    if std::env::var_os("CARGO_FEATURE_INCEPTION").is_some() {
        libtorch_rpath();
    }
    // Rebuilt when HEAD moves (a commit, a checkout); edits to tracked files rebuild the
    // binary anyway.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/index");
    }
}

/// Adds libtorch's library folder to the binary's run path: `$LIBTORCH/lib`, or, with
/// `LIBTORCH_USE_PYTORCH`, the `torch/lib` of the `python3` on PATH (as torch-sys finds
/// them to link).
fn libtorch_rpath() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_USE_PYTORCH");
    let dir = match std::env::var_os("LIBTORCH") {
        Some(root) => Some(std::path::PathBuf::from(root).join("lib")),
        None => Command::new("python3")
            .args([
                "-c",
                "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))",
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().into()),
    };
    if let Some(dir) = dir {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{}", dir.display());
    }
}
