//! `docs/extending.md` walks through adding a latent operator with complete code. This
//! test applies that code to a copy of the sources and runs the tests it adds, so the
//! page cannot drift from the code: a renamed trait method, a moved module or a step the
//! page forgets fails here.
//!
//! The copy builds in its own target folder (`target/extending`, kept between runs), with
//! the dependencies unoptimised: the walkthrough's tests are tiny.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A code block of the page: the file it names after the language tag, and for an
/// insertion (`FILE after LINE`) the existing line it goes after.
#[derive(Debug)]
struct Block {
    file: String,
    after: Option<String>,
    text: String,
}

/// The page's `rust` blocks that name a file.
fn blocks(page: &str) -> Vec<Block> {
    let mut out = vec![];
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```rust ") else {
            continue;
        };
        let (file, after) = match info.split_once(" after ") {
            Some((f, a)) => (f.trim().to_string(), Some(a.trim().to_string())),
            None => (info.trim().to_string(), None),
        };
        let mut text = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            text.push_str(l);
            text.push('\n');
        }
        out.push(Block { file, after, text });
    }
    out
}

/// Copies the sources (everything but `target` and `.git`) from `from` into `to`.
fn copy_sources(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            copy_sources(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Writes each block into `dir`: a whole file, or its lines after the named one.
fn apply(dir: &Path, blocks: &[Block]) -> Result<(), String> {
    for b in blocks {
        let path = dir.join(&b.file);
        match &b.after {
            None => {
                if path.exists() {
                    return Err(format!("{}: the page creates a file that exists", b.file));
                }
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                std::fs::write(&path, &b.text).map_err(|e| e.to_string())?;
            }
            Some(anchor) => {
                let old = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", b.file))?;
                let at = old
                    .find(anchor.as_str())
                    .and_then(|i| old[i..].find('\n').map(|j| i + j + 1))
                    .ok_or_else(|| format!("{}: no line `{anchor}` to insert after", b.file))?;
                let new = format!("{}{}{}", &old[..at], b.text, &old[at..]);
                std::fs::write(&path, new).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// A folder removed when the test ends, passing or not.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0); // ok: best effort
    }
}

#[test]
fn the_latent_operator_walkthrough_builds_and_its_tests_pass() {
    let page = std::fs::read_to_string(root().join("docs/extending.md"))
        .unwrap_or_else(|e| panic!("docs/extending.md: {e}")); // ok: test
    let blocks = blocks(&page);
    // The operator touches its definition, its row in the list and its engine folder:
    // every block goes to one of those three places.
    let places: std::collections::BTreeSet<&str> = blocks
        .iter()
        .map(|b| match b.file.as_str() {
            "lang/src/latent/mod.rs" if b.after.is_some() => "the list",
            f if f.starts_with("lang/src/latent/") && b.after.is_none() => "the definition",
            f if f.starts_with("runtime/engine/src/latent/l2/") => "the engine folder",
            f => panic!("the walkthrough touches {f}, outside its three places"), // ok: test
        })
        .collect();
    assert_eq!(places.len(), 3, "{blocks:#?}");
    let tests = blocks
        .iter()
        .map(|b| b.text.matches("#[test]").count())
        .sum::<usize>();
    assert!(tests >= 3, "the walkthrough adds {tests} tests");

    let dir = Scratch(std::env::temp_dir().join(format!("rrae-extending-{}", std::process::id())));
    copy_sources(&root(), &dir.0).unwrap_or_else(|e| panic!("copy: {e}")); // ok: test
    apply(&dir.0, &blocks).unwrap_or_else(|e| panic!("{e}")); // ok: test

    let out = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .current_dir(&dir.0)
        .env("CARGO_TARGET_DIR", root().join("target/extending"))
        .args([
            "test",
            "--offline",
            "--quiet",
            "-p",
            "rrae-engine",
            "--lib",
            "--config",
            "profile.dev.opt-level=0",
            "--config",
            "profile.dev.package.\"*\".opt-level=0",
            "--config",
            "profile.dev.debug=0",
            "latent::l2::",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cargo: {e}")); // ok: test
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the walkthrough's code fails:\n{log}");
    // `--quiet` prints one `.` per passing test.
    assert!(
        log.contains(&format!("test result: ok. {tests} passed")),
        "expected the walkthrough's {tests} tests to run and pass:\n{log}"
    );
}
