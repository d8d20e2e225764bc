//! The demo program on a synthetic artifact: a linear 1×4×4 autoencoder with k = 2.

use rrae_artifact::*;

fn tensor(name: &str, shape: Vec<u32>, data: Vec<f32>) -> Tensor {
    Tensor {
        name: name.into(),
        shape,
        data,
    }
}

/// Encoder 16 → 3 (L) keeps the first three pixels, the basis [3, 2] the first two
/// latent axes, the decoder puts them back: samples zero past pixel 2 come back exactly.
fn artifact() -> Artifact {
    let enc: Vec<f32> = (0..16 * 3)
        .map(|i| if i / 3 == i % 3 { 1.0 } else { 0.0 })
        .collect();
    let dec: Vec<f32> = (0..3 * 16)
        .map(|i| if i % 16 == i / 16 { 1.0 } else { 0.0 })
        .collect();
    let basis = vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    Artifact {
        name: "synthetic".into(),
        source: "model synthetic".into(),
        source_hash: source_hash("model synthetic"),
        ir: String::new(),
        input: vec![1, 4, 4],
        latent_dim: 3,
        encoder: vec![
            Layer::View,
            Layer::Linear {
                inputs: 16,
                outputs: 3,
                weight: 0,
                bias: None,
            },
        ],
        latent: Latent::Project { basis: 2 },
        decoder: vec![
            Layer::Linear {
                inputs: 3,
                outputs: 16,
                weight: 1,
                bias: None,
            },
            Layer::View,
        ],
        tensors: vec![
            tensor("enc", vec![16, 3], enc),
            tensor("dec", vec![3, 16], dec),
            tensor("basis", vec![3, 2], basis),
        ],
        norm: Norm {
            shift: 0.0,
            scale: 1.0,
        },
        coefficient_mean: vec![1.0, 2.0],
        coefficient_cov: vec![0.1, 0.0, 0.0, 0.1],
        examples: [[1.0, 2.0], [3.0, -1.0]]
            .iter()
            .flat_map(|ab| (0..16).map(move |i| if i < 2 { ab[i] } else { 0.0 }))
            .collect(),
        dataset: DatasetSummary {
            name: "none".into(),
            train_samples: 2,
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

#[test]
fn the_demo_writes_reconstructions_and_samples() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let art = dir.join("model.rra");
    std::fs::write(&art, encode_file(&artifact()).unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rrae-artifact-demo"))
        .args([
            dir.to_str().unwrap(),
            dir.join("out").to_str().unwrap(),
            "3",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("synthetic: k = 2"), "{stdout}");
    // Samples in the span the decoder inverts come back exactly.
    assert!(
        stdout.contains("example 0: coefficients [1.000, 2.000], reconstruction error 0.00 %"),
        "{stdout}"
    );
    assert!(
        stdout.contains("example 1: coefficients [3.000, -1.000], reconstruction error 0.00 %"),
        "{stdout}"
    );
    for f in ["example-0.pgm", "reconstruction-1.pgm", "sample-2.pgm"] {
        let b = std::fs::read(dir.join("out").join(f)).unwrap();
        assert!(
            b.starts_with(b"P5\n4 4\n255\n") && b.len() == 11 + 16,
            "{f}"
        );
    }
    // A foreign file is refused with a message.
    std::fs::write(&art, b"not an artifact at all").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rrae-artifact-demo"))
        .arg(&art)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an rrae artifact"));
}

struct Silent;
impl rrae_train::schedule::Progress for Silent {
    fn event(&mut self, _: &rrae_train::schedule::Event) {}
    fn message(&mut self, _: &str) {}
}

/// On a run folder written by the runtime's `run` (what `rrae run` calls).
#[test]
fn the_demo_uses_a_model_trained_by_rrae_run() {
    let src = "data bumps = gaussian_bumps(grid = 16, train_per_axis = 5, test = 8, sigma = 0.2)
model tiny {
    input [1, 16, 16]
    encoder { conv2d(4, 3, stride = 2, padding = 1) relu flatten linear(8) }
    latent svd_truncate(k = 2)
    decoder { linear(4 * 8 * 8) reshape([4, 8, 8]) conv_transpose2d(4, 3, stride = 2, padding = 1, output_padding = 1) relu conv2d(1, 1) }
}
train { steps = 60 fine_tune_steps = 10 batch = 10 }
eval { interpolation_pairs = 3 random_samples = 6 }
";
    let ir = rrae_lang::check_with("tiny.rrae", src, &rrae_lang::MemLoader::default())
        .result
        .unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-run");
    let _ = std::fs::remove_dir_all(&dir);
    let report = rrae_report::run::run(
        &ir,
        src,
        "tiny.rrae",
        &dir,
        &mut Silent,
        &Default::default(),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rrae-artifact-demo"))
        .args([
            dir.to_str().unwrap(),
            dir.join("demo").to_str().unwrap(),
            "4",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("tiny: k = 2, trained 60 + 10 steps"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("test error {:.2} %", report.metrics.test_error)),
        "{stdout}"
    );
    // 8 stored examples, their reconstructions, 4 samples: 20 images of 16 × 16.
    let pgm: Vec<_> = std::fs::read_dir(dir.join("demo")).unwrap().collect();
    assert_eq!(pgm.len(), 20);
    assert_eq!(stdout.matches("reconstruction error").count(), 8);
}
