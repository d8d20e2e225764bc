//! Every CUDA C kernel of the engine, one row per op (jaq's style: the op's folder
//! holds its source, this table lists it once), compiled to PTX in a test.
//!
//! The sources compile without a GPU: the test compiles each of them wherever libnvrtc
//! can be opened, installing the PyPI wheel `nvidia-cuda-nvrtc` under `target/` first
//! when it cannot (`bench/install_nvrtc.sh`), so a kernel that does not compile fails
//! CI, not a run on a lent GPU.

use super::module::{compile, Module};
use std::path::Path;

/// The engine's kernels, one row per op folder with CUDA C.
pub(super) const MODULES: &[Module] = &[
    crate::ops::elementwise::cuda::MODULE,
    crate::ops::linear::cuda::MODULE,
    crate::ops::activation::cuda::MODULE,
    crate::ops::conv2d::cuda::MODULE,
    crate::ops::loss::cuda::MODULE,
    crate::optim::cuda::MODULE,
];

/// The engine's kernels and every layer's own ([`crate::layer::CUDA`]).
pub(super) fn modules() -> impl Iterator<Item = &'static Module> {
    MODULES
        .iter()
        .chain(crate::layer::CUDA.iter().flat_map(|m| m.iter()))
}

/// Where `bench/install_nvrtc.sh` unpacks NVRTC, relative to the workspace.
const NVRTC_HOME: &str = "target/nvrtc/lib";

/// Opens NVRTC for cudarc: from the library search path if it is there, else from
/// [`NVRTC_HOME`], installing it first (the PyPI wheel, by
/// `bench/install_nvrtc.sh`). A library opened by its full path answers later
/// opens of its name, so cudarc finds it without `LD_LIBRARY_PATH`.
fn nvrtc() {
    // SAFETY: only `dlopen`s; nothing is called.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new("bash")
        .arg(root.join("bench/install_nvrtc.sh"))
        .output()
        .expect("bash runs"); // ok: test
    assert!(
        out.status.success(),
        "bench/install_nvrtc.sh failed (it fetches the PyPI wheel nvidia-cuda-nvrtc):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let home = root.join(NVRTC_HOME);
    let mut libs: Vec<_> = std::fs::read_dir(&home)
        .expect("the install made the folder") // ok: test
        .flatten()
        .map(|e| e.path())
        .collect();
    // The builtins first: libnvrtc opens them by name when it compiles.
    libs.sort_by_key(|p| !p.to_string_lossy().contains("builtins"));
    for lib in libs {
        // SAFETY: NVIDIA's libraries, opened for the rest of the test process.
        let opened = unsafe { libloading::Library::new(&lib) };
        let opened = opened.unwrap_or_else(|e| panic!("{}: {e}", lib.display())); // ok: test
        std::mem::forget(opened);
    }
    assert!(
        unsafe { cudarc::nvrtc::sys::is_culib_present() },
        "{}",
        home.display()
    );
}

/// Every kernel source compiles to PTX that defines exactly the functions its row
/// lists, and no name is defined twice.
#[test]
fn every_kernel_source_compiles_to_ptx() {
    nvrtc();
    let mut names = std::collections::HashSet::new();
    for m in modules().chain([&super::module::SMOKE]) {
        let ptx = compile(m.source, Some("compute_80".into()))
            .unwrap_or_else(|e| panic!("the {} kernels: {e}", m.op)); // ok: test
        let text = ptx.to_src();
        for f in m.functions {
            assert!(
                text.contains(&format!(".entry {f}(")),
                "the {} PTX defines no kernel {f}",
                m.op
            );
            assert!(names.insert(*f), "kernel {f} is defined twice");
        }
        // A kernel the row does not list would never be loaded.
        let entries = text.matches(".entry ").count();
        assert_eq!(
            entries,
            m.functions.len(),
            "the {} PTX: {entries} kernels",
            m.op
        );
    }
}

/// A kernel with an error fails to compile, and the message says where: the test
/// above would catch a broken source.
#[test]
fn a_broken_kernel_does_not_compile() {
    nvrtc();
    let e = compile(
        "extern \"C\" __global__ void k(float* x) { x[0] = y; }",
        None,
    )
    .unwrap_err();
    assert!(e.contains("identifier \"y\" is undefined"), "{e}");
}

/// Each kernel's parameter names, from its C signature.
fn signatures() -> std::collections::HashMap<String, Vec<String>> {
    let mut out = std::collections::HashMap::new();
    for m in modules() {
        for part in m.source.split("extern \"C\" __global__ void ").skip(1) {
            let (name, rest) = part.split_once('(').expect("a parameter list"); // ok: test
            let params = rest.split_once(')').map_or("", |(p, _)| p);
            let names = params
                .split(',')
                .map(|p| {
                    let p = p.trim();
                    let start = p.rfind(|c: char| !(c.is_alphanumeric() || c == '_'));
                    p[start.map_or(0, |i| i + 1)..].to_string()
                })
                .collect();
            out.insert(name.trim().to_string(), names);
        }
    }
    out
}

/// The arguments a launch pushes, by the names of the variables it pushes: the text
/// of every `.arg(…)` between `self.kernel(&MODULE, "NAME")` and `self.go`, less the
/// `&null` of an absent optional pointer (pushed in the `None` arm of a match).
fn launches(code: &str) -> Vec<(String, Vec<String>)> {
    let mut out = vec![];
    for part in code.split("self.kernel(&MODULE, \"").skip(1) {
        let (name, rest) = part.split_once('"').expect("a kernel name"); // ok: test
        let body = rest.split("self.go").next().unwrap_or("");
        let mut args = vec![];
        for a in body.split(".arg(").skip(1) {
            let mut depth = 1;
            let end = a
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(a.len(), |(i, _)| i);
            let expr = a[..end].replace(['&', '*'], "").replace("mut ", "");
            let expr = expr.trim().to_string();
            if expr != "null" {
                args.push(expr);
            }
        }
        out.push((name.to_string(), args));
    }
    out
}

/// Every launch pushes its kernel's parameters in the signature's order, the pushed
/// variables named as the parameters: a swapped pair compiles and runs, so only a
/// comparison of the two lists catches it (one did: `im2col`, before this test).
#[test]
fn every_launch_passes_its_kernels_parameters_in_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let sigs = signatures();
    let (mut seen, mut wrong) = (std::collections::HashSet::new(), vec![]);
    // Every `cuda.rs` of the engine: the ops', the optimiser's, the layers'.
    let mut files = vec![];
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).expect("the source folder"); // ok: test
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "cuda.rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    for path in &files {
        let file = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let code = std::fs::read_to_string(path).expect("the file"); // ok: test
        for (name, args) in launches(&code) {
            let want = sigs
                .get(&name)
                .unwrap_or_else(|| panic!("{file}: no kernel {name}")); // ok: test
            if &args != want {
                wrong.push(format!(
                    "{file}: {name} pushes {args:?}, its signature is {want:?}"
                ));
            }
            seen.insert(name);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let mut missing: Vec<_> = sigs.keys().filter(|k| !seen.contains(*k)).collect();
    missing.sort();
    assert!(missing.is_empty(), "kernels never launched: {missing:?}");
}
