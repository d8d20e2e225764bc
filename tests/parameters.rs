//! Scattered parameters: a reduced-order model whose training parameters are random
//! draws rather than a grid is checked, trained, evaluated and exported like a grid's,
//! and its artifact answers at new parameters with the interpolant the evaluation used.

#[path = "common/scratch.rs"]
mod scratch;
use scratch::Scratch;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A float `.npy` of `shape` (`<f4` or `<f8`) holding `values`.
fn npy(shape: &[usize], f8: bool, values: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let descr = if f8 { "<f8" } else { "<f4" };
    let header = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    let pad = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        if f8 {
            out.extend_from_slice(&v.to_le_bytes());
        } else {
            out.extend_from_slice(&(*v as f32).to_le_bytes());
        }
    }
    out
}

/// Deterministic draws in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// sin(a·x + b) at 32 points for parameters (a, b).
fn signal(a: f64, b: f64) -> Vec<f64> {
    (0..32).map(|i| (a * i as f64 * 0.2 + b).sin()).collect()
}

const MODEL: &str = "data s = npy(train = \"train.npy\", test = \"test.npy\", params_train = \"p_train.npy\", params_test = \"p_test.npy\")
model scattered {
    input [1, 32]
    encoder { flatten linear(32) relu linear(8) }
    latent svd_truncate(k = 2)
    decoder { linear(32) relu linear(32) reshape([1, 32]) }
}
train { steps = 300 fine_tune_steps = 50 batch = 16 }
eval { interpolation_pairs = 2 random_samples = 4 }
";

#[test]
fn scattered_parameters_are_checked_trained_and_decoded_at_new_values() {
    let s = Scratch::new("parameters", "scattered");
    let mut rng = Lcg(7);
    // 64 random training draws in [0.5, 1.5] × [0, 1]; 16 test draws inside them.
    let mut draw = |n: usize, lo: [f64; 2], hi: [f64; 2]| -> Vec<[f64; 2]> {
        (0..n)
            .map(|_| {
                [
                    lo[0] + (hi[0] - lo[0]) * rng.next(),
                    lo[1] + (hi[1] - lo[1]) * rng.next(),
                ]
            })
            .collect()
    };
    let train = draw(64, [0.5, 0.0], [1.5, 1.0]);
    let test = draw(16, [0.7, 0.2], [1.3, 0.8]);
    let rows =
        |ps: &[[f64; 2]]| -> Vec<f64> { ps.iter().flat_map(|p| signal(p[0], p[1])).collect() };
    let flat = |ps: &[[f64; 2]]| -> Vec<f64> { ps.iter().flatten().copied().collect() };
    s.write("train.npy", npy(&[64, 1, 32], false, &rows(&train)));
    s.write("test.npy", npy(&[16, 1, 32], false, &rows(&test)));
    s.write("p_train.npy", npy(&[64, 2], true, &flat(&train)));
    s.write("p_test.npy", npy(&[16, 2], true, &flat(&test)));
    s.write("m.rrae", MODEL);
    let out = s.rrae(&["check", "m.rrae"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = s.rrae(&["run", "m.rrae", "-q", "--device", "cpu", "--out", "run"]);
    assert!(
        out.status.success(),
        "check passed, so run must: {}",
        text(&out.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("run/metrics.json")).unwrap_or_default())
            .unwrap_or_default();
    let e = m["metrics"]["test_error_parametric"]
        .as_f64()
        .unwrap_or(f64::NAN);
    assert!(e.is_finite() && e > 0.0, "{m}");
    assert!(s.path("run/parametric.png").is_file());
    // The artifact's reduced-order path: exact at a training sample (its own
    // coefficients decoded), an error outside the training box.
    let file =
        rrae_artifact::Mapped::open(s.path("run/model.rra")).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let view = file.view().unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert_eq!(view.parameters(), 2);
    let coefficients = npy_rows(&s.path("run/coefficients.npy"));
    for i in [0, 17, 63] {
        let at = view
            .coefficients_at(&train[i])
            .unwrap_or_else(|e| panic!("{e}")); // ok: test
        for (a, b) in at.iter().zip(&coefficients[i]) {
            assert!(
                (*a as f64 - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "sample {i}: {at:?} vs {:?}",
                coefficients[i]
            );
        }
    }
    let between = view
        .decode_at(&[1.0, 0.5])
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert_eq!(between.len(), 32);
    assert!(between.iter().all(|v| v.is_finite()));
    let outside = view
        .decode_at(&[1.6, 0.5])
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(outside.contains("outside the training range"), "{outside}");
}

#[test]
fn parameters_on_a_line_are_refused_by_check_as_by_run() {
    let s = Scratch::new("parameters", "degenerate");
    // Two parameters that always move together: no interpolant in the plane.
    let train: Vec<[f64; 2]> = (0..20).map(|i| [i as f64, 2.0 * i as f64]).collect();
    let rows: Vec<f64> = train
        .iter()
        .flat_map(|p| signal(p[0] * 0.05, p[1] * 0.05))
        .collect();
    let flat: Vec<f64> = train.iter().flatten().copied().collect();
    s.write("train.npy", npy(&[20, 1, 32], false, &rows));
    s.write("test.npy", npy(&[20, 1, 32], false, &rows));
    s.write("p_train.npy", npy(&[20, 2], true, &flat));
    s.write("p_test.npy", npy(&[20, 2], true, &flat));
    s.write("m.rrae", MODEL);
    let out = s.rrae(&["run", "m.rrae", "-q", "--device", "cpu", "--out", "run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("degenerate"),
        "{}",
        text(&out.stderr)
    );
}

/// The rows of a float `.npy` written by `rrae run` (`<f4` or `<f8`, 2-D).
fn npy_rows(path: &std::path::Path) -> Vec<Vec<f64>> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())); // ok: test
    let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
    let header = String::from_utf8_lossy(&b[10..10 + hlen]).to_string();
    let f8 = header.contains("<f8");
    let shape: Vec<usize> = header
        .split("'shape': (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .map(|r| r.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_default();
    let data = &b[10 + hlen..];
    let vals: Vec<f64> = if f8 {
        data.chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect()
    } else {
        data.chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as f64)
            .collect()
    };
    vals.chunks(shape.get(1).copied().unwrap_or(1))
        .map(<[f64]>::to_vec)
        .collect()
}
