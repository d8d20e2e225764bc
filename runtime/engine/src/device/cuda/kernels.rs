//! Every CUDA C kernel of the engine, one row per op (jaq's style: the op's folder
//! holds its source, this table lists it once), compiled by NVRTC when a device opens.
//!
//! The sources compile without a GPU: the test below compiles each of them to PTX
//! wherever libnvrtc can be opened, and `.ci/run` installs it (the PyPI wheel
//! `nvidia-cuda-nvrtc`, unpacked under `target/`), so a kernel that does not compile
//! fails CI, not a run on a lent GPU.

use cudarc::driver::{CudaContext, CudaFunction};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileError, CompileOptions, Ptx};
use std::collections::HashMap;
use std::sync::Arc;

/// One op's kernels: where they live, their CUDA C, and the functions it defines.
pub struct Module {
    pub op: &'static str,
    pub source: &'static str,
    pub functions: &'static [&'static str],
}

/// What every source starts with: the grid-stride loop the kernels iterate with (any
/// grid covers any length), and the size type they count in.
pub const PRELUDE: &str = r#"
typedef long long i64;
#define FOR_EACH(i, n) \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (i64)blockDim.x * gridDim.x)
"#;

/// The engine's kernels, one row per op folder.
pub const MODULES: &[Module] = &[
    crate::ops::elementwise::cuda::MODULE,
    crate::ops::linear::cuda::MODULE,
    crate::ops::activation::cuda::MODULE,
    crate::ops::conv2d::cuda::MODULE,
    crate::ops::loss::cuda::MODULE,
    crate::optim::cuda::MODULE,
];

/// `source` behind the prelude, compiled with `arch` (`compute_90`; none: NVRTC's
/// default).
pub fn compile(source: &str, arch: Option<String>) -> Result<Ptx, String> {
    let opts = CompileOptions {
        options: arch
            .map(|a| vec![format!("--gpu-architecture={a}")])
            .unwrap_or_default(),
        ..Default::default()
    };
    compile_ptx_with_opts(format!("{PRELUDE}{source}"), opts).map_err(|e| match e {
        // NVRTC's own log names the line and the error.
        CompileError::CompileError { log, .. } => log.to_string_lossy().into_owned(),
        other => other.to_string(),
    })
}

/// Compiles every module for a device of compute capability `major.minor`, loads it
/// and returns its functions by name.
pub fn load(
    ctx: &Arc<CudaContext>,
    major: i32,
    minor: i32,
) -> Result<HashMap<&'static str, CudaFunction>, String> {
    let mut out = HashMap::new();
    for m in MODULES {
        let ptx = compile(m.source, Some(format!("compute_{major}{minor}")))
            .map_err(|e| format!("NVRTC could not compile the {} kernels: {e}", m.op))?;
        let module = ctx
            .load_module(ptx)
            .map_err(|e| format!("cannot load the {} kernels: {e}", m.op))?;
        for f in m.functions {
            let func = module
                .load_function(f)
                .map_err(|e| format!("kernel {f} of {}: {e}", m.op))?;
            out.insert(*f, func);
        }
    }
    Ok(out)
}

/// Where `bench/install_nvrtc.sh` unpacks NVRTC, relative to the workspace.
pub const NVRTC_HOME: &str = "target/nvrtc/lib";

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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
            std::mem::forget(opened.unwrap_or_else(|e| panic!("{}: {e}", lib.display())));
            // ok: test
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
        for m in MODULES {
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
}
