//! A kernel source as an op declares it, and its compilation by NVRTC. Each op's
//! `cuda.rs` holds its CUDA C as a [`Module`]; the device compiles a module for its
//! architecture the first time one of its kernels runs (dfdx's way), so opening a GPU
//! costs nothing for the ops a model does not use.

use cudarc::nvrtc::{compile_ptx_with_opts, CompileError, CompileOptions, Ptx};

/// One op's kernels: which op, its CUDA C, and the functions it defines.
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

/// `source` behind the prelude, compiled for `arch` (`compute_90`; none: NVRTC's
/// default). The error is NVRTC's log, which names the line.
pub fn compile(source: &str, arch: Option<String>) -> Result<Ptx, String> {
    let opts = CompileOptions {
        options: arch
            .map(|a| vec![format!("--gpu-architecture={a}")])
            .unwrap_or_default(),
        ..Default::default()
    };
    compile_ptx_with_opts(format!("{PRELUDE}{source}"), opts).map_err(|e| match e {
        CompileError::CompileError { log, .. } => log.to_string_lossy().into_owned(),
        other => other.to_string(),
    })
}

/// A kernel every device runs once when it opens: NVRTC compiles it for the device's
/// architecture, the driver loads it, and it runs, so a toolkit the driver cannot load
/// (a newer NVRTC than the driver, a missing builtins library) is found at `--device`,
/// where `auto` can still take the CPU, not at the first step.
pub const SMOKE: Module = Module {
    op: "smoke test",
    source: r#"
extern "C" __global__ void rrae_smoke(float* x, i64 n) {
    FOR_EACH(i, n) { x[i] = (float)i; }
}
"#,
    functions: &["rrae_smoke"],
};
