//! `docs/extending.md` walks through adding a latent operator and a layer with complete
//! code. This test applies that code to a copy of the sources, runs the tests it adds and
//! `rrae check` on the page's model, so the page cannot drift from the code: a renamed
//! trait method, a moved module or a step the page forgets fails here.
//!
//! The copy builds in its own target folder (`target/extending`, kept between runs), with
//! the dependencies unoptimised: the walkthroughs' tests are tiny.

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

/// The page's section under `## heading`, up to the next `## `.
fn section<'p>(page: &'p str, heading: &str) -> &'p str {
    let start = page
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/extending.md has no section `{heading}`")); // ok: test
    let rest = &page[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 4);
    &rest[..end]
}

/// The text of the fenced block whose info string is `info` (```` ```text rrae check ````).
fn fenced<'p>(text: &'p str, info: &str) -> &'p str {
    let open = format!("```{info}\n");
    let start = text
        .find(&open)
        .unwrap_or_else(|| panic!("no ```{info} block")) // ok: test
        + open.len();
    let len = text[start..].find("```").unwrap_or(0);
    &text[start..start + len]
}

/// The places a walkthrough's blocks touch, by a classification of their files;
/// a block outside every place fails the test.
fn places(blocks: &[Block], place: impl Fn(&Block) -> Option<&'static str>) -> usize {
    let set: std::collections::BTreeSet<&str> = blocks
        .iter()
        .map(|b| {
            place(b)
                .unwrap_or_else(|| panic!("the walkthrough touches {}, outside its places", b.file))
            // ok: test
        })
        .collect();
    set.len()
}

/// The names of the `#[test]` functions in `blocks`.
fn test_names(blocks: &[Block]) -> Vec<String> {
    let mut out = vec![];
    for b in blocks {
        let mut lines = b.text.lines().map(str::trim);
        while let Some(l) = lines.next() {
            if l == "#[test]" {
                let f = lines.by_ref().find(|l| l.starts_with("fn ")).unwrap_or("");
                let name = f["fn ".len().min(f.len())..]
                    .split('(')
                    .next()
                    .unwrap_or("");
                out.push(name.to_string());
            }
        }
    }
    out
}

/// `cargo` in the copy, building into `target/extending` with the dependencies
/// unoptimised (the walkthroughs' tests are tiny).
fn cargo(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join("target/extending"))
        .args([
            args[0],
            "--offline",
            "--config",
            "profile.dev.opt-level=0",
            "--config",
            "profile.dev.package.\"*\".opt-level=0",
            "--config",
            "profile.dev.debug=0",
        ])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cargo: {e}")); // ok: test
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Both walkthroughs applied to one copy of the sources: each touches only its places,
/// the code builds, every test it adds runs and passes (with the tests that every
/// layer's examples run through), and `rrae check` on the page's model prints what the
/// page shows.
#[test]
fn the_walkthroughs_build_and_their_tests_pass() {
    let page = std::fs::read_to_string(root().join("docs/extending.md"))
        .unwrap_or_else(|e| panic!("docs/extending.md: {e}")); // ok: test

    // A latent operator: its definition, its row in the list and its engine folder.
    let latent = blocks(section(&page, "A latent operator"));
    let n = places(&latent, |b| match b.file.as_str() {
        "lang/src/latent/mod.rs" if b.after.is_some() => Some("the list"),
        f if f.starts_with("lang/src/latent/") && b.after.is_none() => Some("the definition"),
        f if f.starts_with("runtime/engine/src/latent/l2/") => Some("the engine folder"),
        _ => None,
    });
    assert_eq!(n, 3, "{latent:#?}");

    // A layer: the same three, and the artifact's form.
    let layer = blocks(section(&page, "A layer"));
    let n = places(&layer, |b| match b.file.as_str() {
        "lang/src/layer/mod.rs" if b.after.is_some() => Some("the list"),
        f if f.starts_with("lang/src/layer/") && b.after.is_none() => Some("the definition"),
        f if f.starts_with("runtime/engine/src/layer/scale/") => Some("the engine folder"),
        "runtime/artifact/src/layer.rs" if b.after.is_some() => Some("the artifact form"),
        _ => None,
    });
    assert_eq!(n, 4, "{layer:#?}");

    let all: Vec<Block> = latent.into_iter().chain(layer).collect();
    let mut names = test_names(&all);
    assert!(names.len() >= 8, "the walkthroughs add {names:?}");
    // Run beside them: every layer's examples through the engine and the artifact.
    names.push("every_layer_runs_alike_in_the_artifact".into());
    names.push("every_layer_name_has_an_example".into());

    let dir = Scratch(std::env::temp_dir().join(format!("rrae-extending-{}", std::process::id())));
    copy_sources(&root(), &dir.0).unwrap_or_else(|e| panic!("copy: {e}")); // ok: test
    apply(&dir.0, &all).unwrap_or_else(|e| panic!("{e}")); // ok: test

    let (ok, out, err) = cargo(
        &dir.0,
        &[
            "test",
            "-p",
            "rrae-lang",
            "-p",
            "rrae-engine",
            "--lib",
            "--",
            "latent::l2::",
            "layer::",
        ],
    );
    let log = format!("{out}{err}");
    assert!(ok, "the walkthroughs' code fails:\n{log}");
    for name in &names {
        assert!(
            log.lines()
                .any(|l| l.starts_with("test ") && l.contains(&format!("::{name} ... ok"))),
            "the test `{name}` did not run and pass:\n{log}"
        );
    }

    // `rrae check` on the page's model file prints the page's output.
    let text = section(&page, "A layer");
    std::fs::write(dir.0.join("scaled.rrae"), fenced(text, "rrae scaled.rrae"))
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let (ok, out, err) = cargo(
        &dir.0,
        &["run", "-q", "-p", "rrae", "--", "check", "scaled.rrae"],
    );
    assert!(ok, "rrae check fails:\n{out}{err}");
    let want = fenced(text, "text rrae check scaled.rrae");
    assert_eq!(
        out.trim_end(),
        want.trim_end(),
        "rrae check prints otherwise"
    );
}
