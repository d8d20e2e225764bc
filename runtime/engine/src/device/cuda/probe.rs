//! Looking for CUDA before touching it. With dynamic loading, cudarc opens each library
//! on its first call and panics if it is missing, so every library a run needs is
//! looked for here first (with cudarc's own list of names) and a missing one becomes a
//! message that names it.

use super::Cuda;
use crate::device::Open;
use std::sync::OnceLock;

/// The libraries a run on the GPU opens: the driver's, and the two it loads kernels
/// and products from. `(cudarc's name, what it is, where it usually comes from)`.
const LIBRARIES: [(&str, &str, &str); 3] = [
    (
        "cuda",
        "the NVIDIA driver library",
        "it comes with the NVIDIA driver",
    ),
    (
        "nvrtc",
        "NVRTC, which compiles rrae's kernels",
        "from the CUDA toolkit, or `pip install nvidia-cuda-nvrtc`",
    ),
    (
        "cublas",
        "cuBLAS, which computes the matrix products",
        "from the CUDA toolkit, or `pip install nvidia-cublas`",
    ),
];

/// Whether a library cudarc would open under `name` can be opened.
fn present(name: &str) -> bool {
    // SAFETY: these only try `dlopen` on cudarc's candidate names; nothing is called.
    unsafe {
        match name {
            "cuda" => cudarc::driver::sys::is_culib_present(),
            "nvrtc" => cudarc::nvrtc::sys::is_culib_present(),
            "cublas" => cudarc::cublas::sys::is_culib_present(),
            _ => false,
        }
    }
}

/// `Ok(())` when every library is there, else which one is not and how to get it.
pub fn libraries() -> Result<(), String> {
    for (name, what, whence) in LIBRARIES {
        if !present(name) {
            let tried = cudarc::get_lib_name_candidates(name);
            let shown: Vec<&str> = tried.iter().take(3).map(String::as_str).collect();
            return Err(format!(
                "{what} was not found (looked for {}, … on the library search path; {whence}; its folder goes in LD_LIBRARY_PATH)",
                shown.join(", ")
            ));
        }
    }
    Ok(())
}

/// The number of CUDA devices the driver lists, once the libraries are known to be
/// there; the reason there are none otherwise. Asked once per process.
pub fn device_count() -> Result<usize, String> {
    static COUNT: OnceLock<Result<usize, String>> = OnceLock::new();
    COUNT
        .get_or_init(|| {
            libraries()?;
            match cudarc::driver::CudaContext::device_count() {
                Ok(0) => Err("the CUDA driver lists no device".into()),
                Ok(n) => Ok(n as usize),
                Err(e) => Err(format!("the CUDA driver reports no usable device ({e})")),
            }
        })
        .clone()
}

/// `--device cuda:N`: opened only after the libraries and the device are found, so that
/// a machine without them gets this message, not cudarc's panic.
impl Open for Cuda {
    const WORD: &'static str = "cuda";
    const ALIASES: &'static [&'static str] = &["gpu"];
    const COUNTED: bool = true;
    const OWN_MEMORY: bool = true;

    fn open(n: usize) -> std::result::Result<Cuda, String> {
        let count = device_count()?;
        if n >= count {
            return Err(format!(
                "cuda:{n} asked for, but the driver lists {count} device{}",
                if count == 1 { "" } else { "s" }
            ));
        }
        Cuda::new(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever this machine has, looking never panics, and a missing library is named
    /// with the candidates that were tried.
    #[test]
    fn looking_for_cuda_never_panics() {
        match libraries() {
            Ok(()) => match device_count() {
                Ok(n) => assert!(n > 0),
                Err(e) => assert!(e.contains("driver"), "{e}"),
            },
            Err(e) => {
                assert!(e.contains("was not found (looked for lib"), "{e}");
                assert!(e.contains("LD_LIBRARY_PATH"), "{e}");
                assert_eq!(device_count(), Err(e));
            }
        }
        assert!(!present("no-such-library"));
    }
}
