//! The architecture as a test: the crates' dependency direction (lang ← engine ←
//! training ← reporting ← CLI) and no import circle among any crate's modules.
//!
//! It reads the sources as text, as a reviewer would: every `crate::a::b`, `super::b` or
//! `self::b` path a module's non-test code (comments aside) names, `use` groups
//! expanded, is an edge to the deepest module of that path, and every `rrae_*::` path
//! an edge to that crate. Parent and child modules may name each
//! other (that is how Rust nests them); any other circle fails with its path printed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Our crates that stack, from the bottom up: each may use only those before it.
const LAYERS: [(&str, &str); 5] = [
    ("rrae_lang", "lang"),
    ("rrae_engine", "runtime/engine"),
    ("rrae_train", "runtime/training"),
    ("rrae_report", "runtime/reporting"),
    ("rrae", "runtime/cli"),
];

/// Every crate of ours, whose modules must have no import circle; the artifact crate
/// (read by microcontrollers and other programs) uses none of the others.
const CRATES: [(&str, &str); 9] = [
    ("rrae_lang", "lang"),
    ("rrae_engine", "runtime/engine"),
    ("rrae_train", "runtime/training"),
    ("rrae_report", "runtime/reporting"),
    ("rrae", "runtime/cli"),
    ("rrae_artifact", "runtime/artifact"),
    ("rrae_python", "python"),
    ("rrae_fuzz", "fuzz"),
    ("rrae_artifact_demo", "examples/artifact-demo"),
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

/// Modules a file declares with `mod name;`: (name, the `#[path]` file if given,
/// whether `#[cfg(test)]` guards it).
fn declared_modules(text: &str) -> Vec<(String, Option<String>, bool)> {
    let mut out = vec![];
    let (mut test, mut path) = (false, None);
    for l in text.lines().map(str::trim) {
        if l == "#[cfg(test)]" {
            test = true;
            continue;
        }
        if let Some(p) = l
            .strip_prefix("#[path = \"")
            .and_then(|p| p.strip_suffix("\"]"))
        {
            path = Some(p.to_string());
            continue;
        }
        let d = l
            .strip_prefix("pub(crate) ")
            .or(l.strip_prefix("pub "))
            .unwrap_or(l);
        if let Some(name) = d.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) {
            out.push((name.trim().to_string(), path.take(), test));
        }
        if !l.starts_with("#[") {
            test = false;
            path = None;
        }
    }
    out
}

/// Modules declared `#[cfg(test)] mod name;`: their files are test code.
fn test_modules(text: &str) -> Vec<String> {
    declared_modules(text)
        .into_iter()
        .filter(|(_, _, test)| *test)
        .map(|(name, _, _)| name)
        .collect()
}

/// The module paths `code` names, written in module `m`: every `crate::…`, `super::…`
/// and `self::…` path, with `use` groups (`crate::{a::b, c}`) expanded.
fn module_paths(code: &str, m: &[String]) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = vec![];
    for (i, _) in code.match_indices("::") {
        // The word before this `::`, which must start the path.
        let start = code[..i]
            .char_indices()
            .rev()
            .take_while(|(_, c)| ident(*c))
            .last()
            .map_or(i, |(j, _)| j);
        let before = code[..start].trim_end();
        if before.ends_with("::") || code[..start].chars().last().is_some_and(ident) {
            continue;
        }
        let base: Vec<String> = match &code[start..i] {
            "crate" => vec![],
            "self" => m.to_vec(),
            "super" => {
                // `super::super::x` climbs again.
                let mut base = m[..m.len().saturating_sub(1)].to_vec();
                let mut rest = &code[i + 2..];
                while let Some(r) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = r;
                }
                base
            }
            _ => continue,
        };
        let mut rest = &code[i + 2..];
        while let Some(r) = rest.strip_prefix("super::") {
            rest = r;
        }
        use_tree(rest, &base, &mut out);
    }
    out
}

/// Expands one use tree (`a::b`, `a::{b, c::d}`, `{a, b}`) after `base`.
fn use_tree(text: &str, base: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = base.to_vec();
    let mut rest = text.trim_start();
    loop {
        if let Some(inner) = rest.strip_prefix('{') {
            // Split the group at its top-level commas.
            let (mut depth, mut from) = (0usize, 0usize);
            for (j, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        use_tree(&inner[from..j], &path, out);
                        return;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        use_tree(&inner[from..j], &path, out);
                        from = j + 1;
                    }
                    _ => {}
                }
            }
            return;
        }
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if word.is_empty() || word == "self" {
            break;
        }
        path.push(word.clone());
        rest = &rest[word.len()..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r.trim_start(),
            None => break,
        }
    }
    if path.len() > base.len() || !base.is_empty() {
        out.push(path);
    }
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
    let mut texts: Vec<(Vec<String>, String)> = files
        .iter()
        .map(|p| {
            (
                module_of(p.strip_prefix(&src).unwrap()),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    // `#[path = "x.rs"] mod name;` makes x.rs the module `name` of the declaring file.
    let mut renamed: Vec<(PathBuf, Vec<String>)> = vec![];
    for (p, (m, t)) in files.iter().zip(&texts) {
        for (name, path, _) in declared_modules(t) {
            if let (Some(path), Some(dir)) = (path, p.parent()) {
                let mut child = m.clone();
                child.push(name);
                renamed.push((dir.join(path), child));
            }
        }
    }
    for (file, m) in renamed {
        if let Some(i) = files.iter().position(|p| *p == file) {
            texts[i].0 = m;
        }
    }
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
        let mut to = BTreeSet::new();
        for path in module_paths(&code, m) {
            // The deepest module the path names.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains(p));
            if let Some(target) = target {
                to.insert(target.join("::"));
            }
        }
        for (name, _) in CRATES {
            // `rrae::` as a path's first segment, not the end of `vrrae::`.
            let named = code.match_indices(&format!("{name}::")).any(|(i, _)| {
                !code[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if named {
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
fn no_crate_has_an_import_circle_among_its_modules() {
    for (name, dir) in CRATES {
        let c = read_crate(&root().join(dir));
        assert!(!c.modules.is_empty(), "{dir}: no modules read");
        if let Some(found) = circle(&c) {
            panic!("{name}: import circle {}", found.join(" → "));
        }
    }
}

#[test]
fn the_artifact_crate_uses_no_other_crate_of_ours() {
    let c = read_crate(&root().join("runtime/artifact"));
    for (m, to) in &c.uses {
        for t in to {
            assert!(
                !t.starts_with("crate ") || t == "crate rrae_artifact",
                "rrae_artifact::{} names {t}",
                m.join("::")
            );
        }
    }
    let manifest = std::fs::read_to_string(root().join("runtime/artifact/Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|d| d.split("\n[").next())
        .unwrap_or("");
    assert!(
        !deps.contains("rrae-") && deps.contains("rkyv"),
        "runtime/artifact/Cargo.toml depends on a crate of ours (or was not read):\n{deps}"
    );
}

/// The language's modules are read like the runtime's: a planted circle (the error
/// module reaching up for the latent operators' list, as it once did) is found.
#[test]
fn a_circle_planted_in_the_language_is_found() {
    let dir = std::env::temp_dir().join(format!("rrae-arch-{}", std::process::id()));
    let src = dir.join("src");
    let copy = |from: &Path, to: &Path| {
        let mut stack = vec![(from.to_path_buf(), to.to_path_buf())];
        while let Some((f, t)) = stack.pop() {
            std::fs::create_dir_all(&t).unwrap();
            for e in std::fs::read_dir(&f).unwrap() {
                let p = e.unwrap().path();
                let dst = t.join(p.file_name().unwrap());
                if p.is_dir() {
                    stack.push((p, dst));
                } else {
                    std::fs::copy(&p, &dst).unwrap();
                }
            }
        }
    };
    copy(&root().join("lang/src"), &src);
    let clean = read_crate(&dir);
    assert_eq!(
        circle(&clean),
        None,
        "the copy has a circle before planting"
    );
    let error = src.join("error.rs");
    let text = std::fs::read_to_string(&error).unwrap();
    std::fs::write(
        &error,
        format!("{text}\nfn planted() -> usize {{ crate::latent::LATENT_OPS.len() }}\n"),
    )
    .unwrap();
    let found = circle(&read_crate(&dir)).map(|p| p.join(" → "));
    let _ = std::fs::remove_dir_all(&dir); // ok: best effort
    let found = found.unwrap_or_else(|| panic!("the planted circle was not found"));
    assert!(
        found.contains("error") && found.contains("latent"),
        "{found}"
    );
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
    let text = "use crate::a;\n#[cfg(test)]\nmod tests;\nfn f() {}\n#[cfg(test)]\nmod inline {\n    use crate::b;\n}\n#[cfg(test)]\n#[path = \"x_tests.rs\"]\nmod more;\n#[path = \"y.rs\"]\nmod y;\n";
    assert_eq!(
        test_modules(text),
        vec!["tests".to_string(), "more".to_string()]
    );
    assert_eq!(
        declared_modules(text)[2],
        ("y".to_string(), Some("y.rs".to_string()), false)
    );
    let code = non_test(text);
    assert!(
        code.contains("crate::a") && !code.contains("crate::b"),
        "{code}"
    );
}

#[test]
fn paths_are_read_through_groups_super_and_self() {
    let m = |s: &str| s.split("::").map(String::from).collect::<Vec<String>>();
    let code = "use crate::{a::b, c::{d, self}};\nuse super::f::g;\nlet x = self::h::i();\nuse super::super::j;\nrrae_lang::crate_x::y;";
    let got = module_paths(code, &m("x::y"));
    assert_eq!(
        got,
        vec![
            m("a::b"),
            m("c::d"),
            m("c"),
            m("x::f::g"),
            m("x::y::h::i"),
            vec!["j".to_string()]
        ]
    );
}

/// Every `.rs` file of ours under `dir`, `target/` and hidden folders aside.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name == "target" || name == "shared" {
            continue;
        }
        if p.is_dir() {
            rust_files(&p, out);
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

/// `cargo fmt` formats the modules it can reach from each crate's root, and a module
/// declared inside a macro (each latent operator's and each layer's, which the one list
/// generates) is not one of them: 25 files had drifted unseen. So rustfmt checks every
/// file itself.
#[test]
fn every_source_file_is_formatted_even_where_a_macro_declares_its_module() {
    let mut files = vec![];
    for dir in [
        "lang", "runtime", "python", "fuzz", "examples", "tests", "bench",
    ] {
        rust_files(&root().join(dir), &mut files);
    }
    files.sort();
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("runtime/engine/src/latent/vrrae/mod.rs")),
        "the walk missed a macro-declared module"
    );
    let out = std::process::Command::new("rustfmt")
        .args(["--edition", "2021", "--check", "-l"])
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!("rustfmt ({e}): install it with `rustup component add rustfmt`")
        }); // ok: test
    assert!(
        out.status.success(),
        "not formatted (fix with `rustfmt --edition 2021 FILE`):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
