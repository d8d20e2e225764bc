//! Records the commit the binary is built from, for `rrae --version`.

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
    // Rebuilt when HEAD moves (a commit, a checkout); edits to tracked files rebuild the
    // binary anyway.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/index");
    }
}
