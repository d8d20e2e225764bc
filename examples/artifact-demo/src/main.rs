//! `rrae-artifact-demo ARTIFACT [OUT_DIR] [SAMPLES]`: loads an artifact written by
//! `rrae run` (a `model.rra`, or the run folder holding it), reconstructs the training
//! examples stored in it, draws random samples, and writes all of them as images: PGM
//! for grey samples ([1, H, W] or 1-D), PPM for colour ones ([3, H, W]).
//!
//! ```sh
//! cargo run --release -p rrae-artifact-demo -- runs/quickstart demo-out 8
//! ```

use rrae_artifact::{Mapped, Rng, View};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// An 8-bit PGM (one channel) or PPM (three) of one [C, H, W] sample, scaled to its own
/// range; written beside its final name first, so a crash leaves no half image.
fn netpbm(path: &Path, c: usize, h: usize, w: usize, x: &[f32]) -> std::io::Result<()> {
    let (lo, hi) = x
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let magic = if c == 3 { "P6" } else { "P5" };
    let mut bytes = format!("{magic}\n{w} {h}\n255\n").into_bytes();
    // Planes to interleaved pixels.
    let plane = h * w;
    for i in 0..plane {
        for ch in 0..c {
            let v = x[ch * plane + i];
            bytes.push((255.0 * (v - lo) / span).round().clamp(0.0, 255.0) as u8);
        }
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn relative_error(a: &[f32], b: &[f32]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
    let den: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum();
    100.0 * (num / den.max(1e-300)).sqrt()
}

fn run(model: &View, out: &Path, samples: usize) -> Result<(), String> {
    let a = model.artifact();
    let dims: Vec<usize> = a.input.iter().map(|d| d.to_native() as usize).collect();
    let (c, h, w) = match dims[..] {
        [c @ (1 | 3), h, w] => (c, h, w),
        [1, n] | [n] => (1, 1, n),
        _ => {
            return Err(format!(
                "samples of shape {dims:?} are neither grey nor RGB images"
            ))
        }
    };
    let ext = if c == 3 { "ppm" } else { "pgm" };
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let save = |name: String, x: &[f32]| {
        let name = format!("{name}.{ext}");
        netpbm(&out.join(&name), c, h, w, x).map_err(|e| format!("{name}: {e}"))
    };
    let n = model.input_len();
    let examples: Vec<f32> = a.examples.iter().map(|v| v.to_native()).collect();
    for (i, x) in examples.chunks(n).enumerate() {
        let alpha = model.encode(x).map_err(|e| e.to_string())?;
        let y = model.decode(&alpha).map_err(|e| e.to_string())?;
        println!(
            "example {i}: coefficients {alpha:.3?}, reconstruction error {:.2} %",
            relative_error(&y, x)
        );
        save(format!("example-{i}"), x)?;
        save(format!("reconstruction-{i}"), &y)?;
    }
    let mut rng = Rng::new(0);
    for (i, s) in model
        .sample(samples, &mut rng)
        .map_err(|e| e.to_string())?
        .iter()
        .enumerate()
    {
        save(format!("sample-{i}"), s)?;
    }
    println!(
        "{} examples, their reconstructions and {samples} samples in {}",
        examples.len() / n,
        out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first().map(PathBuf::from) else {
        eprintln!("usage: rrae-artifact-demo ARTIFACT [OUT_DIR] [SAMPLES]");
        return ExitCode::from(2);
    };
    let path = if path.is_dir() {
        path.join("model.rra")
    } else {
        path
    };
    let out = PathBuf::from(args.get(1).map_or("demo-out", |s| s.as_str()));
    let samples = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(8);
    let file = match Mapped::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let result = file.view().map_err(|e| e.to_string()).and_then(|m| {
        let a = m.artifact();
        println!(
            "{}: k = {}, trained {} + {} steps, test error {:.2} %",
            a.name,
            m.k(),
            a.training.train_steps.to_native(),
            a.training.fine_tune_steps.to_native(),
            a.training.test_error.to_native()
        );
        run(&m, &out, samples)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3-channel 1 × 2 sample is written as a PPM of interleaved RGB pixels.
    #[test]
    fn colour_samples_become_interleaved_ppm_pixels() {
        let dir = std::env::temp_dir().join(format!("rrae-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.ppm");
        // Planes: R = [1, 0], G = [0, 1], B = [0.5, 0].
        netpbm(&path, 3, 1, 2, &[1.0, 0.0, 0.0, 1.0, 0.5, 0.0]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..11], b"P6\n2 1\n255\n");
        assert_eq!(&bytes[11..], &[255, 0, 128, 0, 255, 0]);
        netpbm(&path, 1, 1, 2, &[0.0, 2.0]).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"P5\n2 1\n255\n\x00\xff");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
