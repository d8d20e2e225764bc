//! The runtime's architecture as a test: the crates' dependency direction (engine ←
//! training ← reporting ← CLI) and no import circle among any crate's modules.
//!
//! It reads the sources as text, as a reviewer would: every `crate::a::b` path a
//! module's non-test code (comments aside) names is an edge to the deepest module of that path, and
//! every `rrae_*::` path an edge to that crate. Parent and child modules may name each
//! other (that is how Rust nests them); any other circle fails with its path printed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The runtime's crates from the bottom up: each may use only those before it.
const LAYERS: [(&str, &str); 4] = [
    ("rrae_engine", "runtime/engine"),
    ("rrae_train", "runtime/training"),
    ("rrae_report", "runtime/reporting"),
    ("rrae", "runtime/cli"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A source file's module path (`ops::conv2d::cpu`) from its path under `src/`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The non-test part of a source file: up to an inline `#[cfg(test)] mod … {`.
fn non_test(text: &str) -> &str {
    let mut at = 0;
    while let Some(i) = text[at..].find("#[cfg(test)]") {
        let start = at + i;
        let rest = text[start + "#[cfg(test)]".len()..].trim_start();
        let rest = rest.strip_prefix("pub ").unwrap_or(rest);
        if rest.starts_with("mod ") && rest.split(';').next().is_some_and(|d| d.contains('{')) {
            return &text[..start];
        }
        at = start + 1;
    }
    text
}

/// Modules declared `#[cfg(test)] mod name;`: their files are test code.
fn test_modules(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut lines = text.lines().map(str::trim).peekable();
    while let Some(l) = lines.next() {
        if l == "#[cfg(test)]" {
            if let Some(next) = lines.peek() {
                let d = next.strip_prefix("pub ").unwrap_or(next);
                if let Some(name) = d.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) {
                    out.push(name.trim().to_string());
                }
            }
        }
    }
    out
}

struct Crate {
    /// Module path → the module paths and crates its code names.
    uses: BTreeMap<Vec<String>, BTreeSet<String>>,
    modules: BTreeSet<Vec<String>>,
}

fn read_crate(dir: &Path) -> Crate {
    let src = dir.join("src");
    let mut files = vec![];
    let mut stack = vec![src.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    let texts: Vec<(Vec<String>, String)> = files
        .iter()
        .map(|p| {
            (
                module_of(p.strip_prefix(&src).unwrap()),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    // Files of `#[cfg(test)]` modules, and everything below them, are test code.
    let mut tests: Vec<Vec<String>> = vec![];
    for (m, t) in &texts {
        for name in test_modules(t) {
            let mut child = m.clone();
            child.push(name);
            tests.push(child);
        }
    }
    let is_test = |m: &Vec<String>| tests.iter().any(|t| m.starts_with(t));
    let modules: BTreeSet<Vec<String>> = texts
        .iter()
        .map(|(m, _)| m.clone())
        .filter(|m| !is_test(m))
        .collect();
    let mut uses = BTreeMap::new();
    for (m, t) in &texts {
        if is_test(m) {
            continue;
        }
        // Code only: a doc comment may point anywhere.
        let code: String = non_test(t)
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let code = code.as_str();
        let mut to = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            // `rrae_engine::…` is another crate, not this one's `crate::`.
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let path: Vec<String> = code[i + "crate::".len()..]
                .split("::")
                .map(|s| {
                    s.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .take_while(|s| !s.is_empty())
                .collect();
            // The deepest module the path names.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains(p));
            if let Some(target) = target {
                to.insert(target.join("::"));
            }
        }
        for (name, _) in LAYERS {
            if code.contains(&format!("{name}::")) {
                to.insert(format!("crate {name}"));
            }
        }
        uses.insert(m.clone(), to);
    }
    Crate { uses, modules }
}

/// A circle among modules that are not each other's ancestors, if there is one.
fn circle(c: &Crate) -> Option<Vec<String>> {
    let key = |m: &Vec<String>| m.join("::");
    let edges: BTreeMap<String, Vec<String>> = c
        .uses
        .iter()
        .map(|(m, to)| {
            let from = key(m);
            let to = to
                .iter()
                .filter(|t| !t.starts_with("crate "))
                .filter(|t| {
                    let t: Vec<String> = t.split("::").map(String::from).collect();
                    !(t.starts_with(m) || m.starts_with(&t))
                })
                .cloned()
                .collect();
            (from, to)
        })
        .collect();
    // Depth-first search with colours: 1 = on the current path, 2 = finished.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, Vec<String>>,
        colour: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        colour.insert(n.to_string(), 1);
        path.push(n.to_string());
        for t in edges.get(n).into_iter().flatten() {
            match colour.get(t.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = path.iter().position(|p| p == t).unwrap_or(0);
                    let mut found = path[from..].to_vec();
                    found.push(t.clone());
                    return Some(found);
                }
                0 => {
                    if let Some(found) = visit(t, edges, colour, path) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        colour.insert(n.to_string(), 2);
        None
    }
    let mut colour = BTreeMap::new();
    for m in &c.modules {
        let k = key(m);
        if colour.get(&k).copied().unwrap_or(0) == 0 {
            if let Some(found) = visit(&k, &edges, &mut colour, &mut vec![]) {
                return Some(found);
            }
        }
    }
    None
}

#[test]
fn each_runtime_crate_uses_only_the_crates_below_it() {
    for (i, (name, dir)) in LAYERS.iter().enumerate() {
        let c = read_crate(&root().join(dir));
        let above: Vec<&str> = LAYERS[i + 1..].iter().map(|(n, _)| *n).collect();
        for (m, to) in &c.uses {
            for t in to {
                if let Some(other) = t.strip_prefix("crate ") {
                    assert!(
                        !above.contains(&other),
                        "{name}::{} names {other}, a crate above it",
                        m.join("::")
                    );
                }
            }
        }
        // The manifests say the same: no dependency on a crate above.
        let manifest = std::fs::read_to_string(root().join(dir).join("Cargo.toml")).unwrap();
        let deps = manifest.split("[dev-dependencies]").next().unwrap_or("");
        let keys: Vec<&str> = deps
            .lines()
            .filter_map(|l| l.split(['.', ' ', '=']).next())
            .collect();
        for other in &above {
            let dashed = other.replace('_', "-");
            assert!(
                !keys.contains(&dashed.as_str()),
                "{dir}/Cargo.toml depends on {dashed}, a crate above it"
            );
        }
    }
}

#[test]
fn no_runtime_crate_has_an_import_circle_among_its_modules() {
    for (name, dir) in LAYERS {
        let c = read_crate(&root().join(dir));
        assert!(c.modules.len() > 1, "{dir}: no modules read");
        if let Some(found) = circle(&c) {
            panic!("{name}: import circle {}", found.join(" → "));
        }
    }
}

#[test]
fn the_circle_finder_finds_a_planted_circle_and_ignores_parent_and_child() {
    let m = |s: &str| s.split("::").map(String::from).collect::<Vec<String>>();
    let set = |v: &[&str]| {
        v.iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<String>>()
    };
    let mut c = Crate {
        uses: BTreeMap::new(),
        modules: ["a", "b", "c", "c::d"].iter().map(|s| m(s)).collect(),
    };
    c.uses.insert(m("a"), set(&["b"]));
    c.uses.insert(m("b"), set(&["c::d"]));
    c.uses.insert(m("c"), set(&["c::d"]));
    c.uses.insert(m("c::d"), set(&["c"]));
    assert_eq!(
        circle(&c),
        None,
        "parent and child naming each other is no circle"
    );
    c.uses.insert(m("c::d"), set(&["c", "a"]));
    assert_eq!(
        circle(&c).map(|p| p.join(" → ")),
        Some("a → b → c::d → a".to_string())
    );
}

#[test]
fn test_code_is_told_apart_from_the_code_it_tests() {
    let text = "use crate::a;\n#[cfg(test)]\nmod tests;\nfn f() {}\n#[cfg(test)]\nmod inline {\n    use crate::b;\n}\n";
    assert_eq!(test_modules(text), vec!["tests".to_string()]);
    let code = non_test(text);
    assert!(
        code.contains("crate::a") && !code.contains("crate::b"),
        "{code}"
    );
}
