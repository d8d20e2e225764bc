//! `cargo bench -p rrae-artifact`: opening a ≥ 20 MB artifact in place (checksummed and
//! validated, validated only, and not at all) against reading it and deserialising it
//! into owned data.

use rrae_artifact::*;
use std::time::{Duration, Instant};

/// An MLP autoencoder 64×64 → 1024 → L = 64 → 1024 → 64×64: 8.5 M parameters, 34 MB.
fn big() -> Artifact {
    let t = |name: &str, shape: Vec<u32>| {
        let n: u32 = shape.iter().product();
        Tensor {
            name: name.into(),
            data: (0..n).map(|i| ((i % 97) as f32 - 48.0) * 1e-3).collect(),
            shape,
        }
    };
    let lin = |i: u32, o: u32, w: u32, b: u32| Layer::Linear {
        inputs: i,
        outputs: o,
        weight: w,
        bias: Some(b),
    };
    Artifact {
        name: "big".into(),
        source: String::new(),
        source_hash: 0,
        ir: String::new(),
        input: vec![1, 64, 64],
        latent_dim: 64,
        encoder: vec![
            Layer::View,
            lin(4096, 1024, 0, 1),
            Layer::Relu,
            lin(1024, 64, 2, 3),
        ],
        latent: Latent::Project { basis: 8 },
        decoder: vec![
            lin(64, 1024, 4, 5),
            Layer::Relu,
            lin(1024, 4096, 6, 7),
            Layer::View,
        ],
        tensors: vec![
            t("e0.w", vec![4096, 1024]),
            t("e0.b", vec![1024]),
            t("e1.w", vec![1024, 64]),
            t("e1.b", vec![64]),
            t("d0.w", vec![64, 1024]),
            t("d0.b", vec![1024]),
            t("d1.w", vec![1024, 4096]),
            t("d1.b", vec![4096]),
            t("basis", vec![64, 2]),
        ],
        norm: Norm {
            shift: 0.0,
            scale: 1.0,
        },
        coefficient_mean: vec![0.0; 2],
        coefficient_cov: vec![1.0, 0.0, 0.0, 1.0],
        examples: vec![0.5; 4096],
        dataset: DatasetSummary {
            name: "synthetic".into(),
            train_samples: 0,
            test_samples: 0,
        },
        training: TrainingSummary {
            seed: 0,
            train_steps: 0,
            fine_tune_steps: 0,
            k: Some(2),
            train_error: 0.0,
            test_error: 0.0,
            interpolation_error: None,
            wall_seconds: 0.0,
        },
        parameters: None,
    }
}

fn median(mut f: impl FnMut() -> Duration, runs: usize) -> Duration {
    let mut v: Vec<Duration> = (0..runs).map(|_| f()).collect();
    v.sort();
    v[runs / 2]
}

fn main() {
    let path = std::env::temp_dir().join(format!("rrae-bench-{}.rra", std::process::id()));
    let bytes = encode_file(&big()).expect("serialises"); // ok: bench
    std::fs::write(&path, &bytes).expect("writes"); // ok: bench
    let mb = bytes.len() as f64 / 1e6;
    let mut sink = 0.0f32;
    let mut touch = |v: &View| sink += v.tensor(6)[123_456].to_native();
    let validated = median(
        || {
            let t = Instant::now();
            let m = Mapped::open(&path).expect("maps"); // ok: bench
            let v = m.view().expect("valid"); // ok: bench
            touch(&v);
            t.elapsed()
        },
        51,
    );
    let structure = median(
        || {
            let t = Instant::now();
            let m = Mapped::open(&path).expect("maps"); // ok: bench
            let v = View::open_unverified(m.bytes()).expect("valid"); // ok: bench
            touch(&v);
            t.elapsed()
        },
        51,
    );
    let unchecked = median(
        || {
            let t = Instant::now();
            let m = Mapped::open(&path).expect("maps"); // ok: bench
                                                        // SAFETY: the file was written above by `encode_file` and is valid.
            let v = unsafe { View::open_unchecked(m.bytes()) }.expect("header"); // ok: bench
            touch(&v);
            t.elapsed()
        },
        51,
    );
    // What Python's `rrae.open` does since issue 40: a copy in memory (so that a file
    // truncated under an open model cannot fault), checksummed and validated.
    let copied = median(
        || {
            let t = Instant::now();
            let m = Mapped::read(&path).expect("reads"); // ok: bench
            let v = m.view().expect("valid"); // ok: bench
            touch(&v);
            t.elapsed()
        },
        51,
    );
    let full = median(
        || {
            let t = Instant::now();
            let data = std::fs::read(&path).expect("reads"); // ok: bench
            let m = Mapped::from_bytes(&data);
            let a = from_bytes(m.bytes()).expect("valid"); // ok: bench
            sink += a.tensors[6].data[123_456];
            t.elapsed()
        },
        11,
    );
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "artifact: {mb:.1} MB, 8.5 M parameters ({})",
        path.display()
    );
    println!("{:<52} {:>12}", "open", "median");
    println!(
        "{:<52} {:>9.1} µs",
        "mmap + checksum + validate (View::open, the default)",
        us(validated)
    );
    println!(
        "{:<52} {:>9.1} µs",
        "read + checksum + validate (Mapped::read; Python)",
        us(copied)
    );
    println!(
        "{:<52} {:>9.1} µs",
        "mmap + validate, no checksum (View::open_unverified)",
        us(structure)
    );
    println!(
        "{:<52} {:>9.1} µs",
        "mmap, no validation (unsafe open_unchecked)",
        us(unchecked)
    );
    println!(
        "{:<52} {:>9.1} µs",
        "read + validate + deserialise to owned",
        us(full)
    );
    println!(
        "ratio full / validated zero-copy: {:.0}×",
        us(full) / us(validated)
    );
    let _ = std::fs::remove_file(&path);
    assert!(sink.is_finite());
}
