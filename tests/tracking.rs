//! Tracking a run: the validation loss in losses.csv (without changing the training
//! trace) and TensorBoard's event file, read back with the `tensorboard` package's
//! own reader, complete after a resume and without duplicates.

#[path = "common/scratch.rs"]
mod scratch;
#[path = "common/venv.rs"]
mod venv;
use scratch::Scratch;
use std::process::Command;

const TINY: &str = include_str!("fixtures/tiny.rrae");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// losses.csv's rows as their fields.
fn rows(s: &Scratch, dir: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(s.path(dir).join("losses.csv"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn validation_losses_are_logged_every_n_steps_and_leave_the_trace_unchanged() {
    let s = Scratch::new("tracking", "validation");
    s.write("tiny.rrae", TINY);
    for (dir, every) in [("v5", "5"), ("v0", "0")] {
        let set = format!("train.validate_every={every}");
        let out = s.rrae(&["run", "tiny.rrae", "-q", "--out", dir, "--set", &set]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let (v5, v0) = (rows(&s, "v5"), rows(&s, "v0"));
    assert_eq!(v5.len(), 50);
    // phase, step, k and loss: identical with and without validation.
    let cut =
        |r: &Vec<Vec<String>>| -> Vec<Vec<String>> { r.iter().map(|f| f[..4].to_vec()).collect() };
    assert_eq!(cut(&v5), cut(&v0));
    let measured: Vec<(String, String)> = v5
        .iter()
        .filter(|f| !f[4].is_empty())
        .map(|f| (f[0].clone(), f[1].clone()))
        .collect();
    let want: Vec<(String, String)> = (0..8)
        .map(|i| ("train".to_string(), (5 * i + 4).to_string()))
        .chain((0..2).map(|i| ("fine_tune".to_string(), (5 * i + 4).to_string())))
        .collect();
    assert_eq!(measured, want);
    assert!(v0.iter().all(|f| f[4].is_empty()));
    for f in v5.iter().filter(|f| !f[4].is_empty()) {
        let v: f64 = f[4].parse().unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "{f:?}");
    }
    // The last fine-tuning validation is the evaluation's projected test error on the
    // same samples (the tiny set has 8, fewer than 1024): the relative L2 of one batch
    // of 8 is ‖X̂ − X‖/‖X‖ over the set, as metrics.json's normalised test error is.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("v5/metrics.json")).unwrap_or_default())
            .unwrap_or_default();
    let test = m["metrics"]["test_error_normalised"]
        .as_f64()
        .unwrap_or(f64::NAN);
    let last: f64 = v5[49][4].parse().unwrap_or(f64::NAN);
    assert!(
        (last - test).abs() < 1e-3 * test,
        "validation {last} vs test error {test}"
    );
}

/// The run's event file as TensorBoard reads it: {tag: [[step, value], …]} for the
/// scalars and the histograms' bucket heights.
fn board(dir: &std::path::Path) -> serde_json::Value {
    let bin = venv::venv();
    let script = r#"
import json, sys
from tensorboard.backend.event_processing import event_accumulator as ea
acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0})
acc.Reload()
out = {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
for t in acc.Tags()["histograms"]:
    out[t] = [[e.step, list(e.histogram_value.bucket), list(e.histogram_value.bucket_limit)] for e in acc.Histograms(t)]
print(json.dumps(out))
"#;
    let log = venv::run(
        Command::new(bin.join("python"))
            .args(["-c", script])
            .arg(dir),
        "read the event file with tensorboard",
    );
    let line = log.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {log}")) // ok: test
}

#[test]
fn tensorboard_reads_the_losses_rank_rate_and_spectrum_and_a_resume_has_no_duplicates() {
    let s = Scratch::new("tracking", "tensorboard");
    s.write("tiny.rrae", TINY);
    let args = [
        "run",
        "tiny.rrae",
        "-q",
        "--set",
        "train.validate_every=5",
        "--out",
    ];
    let out = s.rrae(&[&args[..], &["whole"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let b = board(&s.path("whole"));
    let csv = rows(&s, "whole");
    let col = |phase: &str, i: usize| -> Vec<f64> {
        csv.iter()
            .filter(|f| f[0] == phase && !f[i].is_empty())
            .map(|f| f[i].parse().unwrap_or(f64::NAN))
            .collect()
    };
    let scalars = |tag: &str| -> Vec<(u64, f64)> {
        b[tag]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        (
                            p[0].as_u64().unwrap_or(0),
                            p[1].as_f64().unwrap_or(f64::NAN),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    // Losses as f32, at steps 0…39, then fine-tuning at 40…49.
    let train = scalars("loss/train");
    assert_eq!(
        train.iter().map(|p| p.0).collect::<Vec<_>>(),
        (0..40).collect::<Vec<_>>()
    );
    for (p, v) in train.iter().zip(col("train", 3)) {
        assert_eq!(p.1, v as f32 as f64);
    }
    let fine = scalars("loss/fine_tune");
    assert_eq!(
        fine.iter().map(|p| p.0).collect::<Vec<_>>(),
        (40..50).collect::<Vec<_>>()
    );
    let val = scalars("loss/validation");
    assert_eq!(
        val.iter().map(|p| p.0).collect::<Vec<_>>(),
        [4, 9, 14, 19, 24, 29, 34, 39, 44, 49]
    );
    let csv_val: Vec<f64> = col("train", 4)
        .into_iter()
        .chain(col("fine_tune", 4))
        .collect();
    for (p, v) in val.iter().zip(csv_val) {
        assert_eq!(p.1, v as f32 as f64);
    }
    assert!(scalars("k").iter().all(|p| p.1 == 2.0));
    assert!(
        scalars("learning_rate")
            .iter()
            .all(|p| (p.1 - 1e-3).abs() < 1e-9),
        "{:?}",
        scalars("learning_rate")
    );
    // The common basis's spectrum: σᵢ/σ₁ in bucket i, at the end of training.
    let h = &b["singular_values/common_basis"][0];
    assert_eq!(h[0], 40);
    let heights: Vec<f64> = h[1]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default();
    assert_eq!(heights.first(), Some(&1.0));
    assert!(heights.windows(2).all(|w| w[0] >= w[1]), "{heights:?}");
    // Stopped, resumed: the same steps once each.
    let out = s.rrae(&[&args[..], &["cut", "--stop-after", "23"]].concat());
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let out = s.rrae(&["run", "tiny.rrae", "-q", "--resume", "cut"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c = board(&s.path("cut"));
    for tag in ["loss/train", "loss/fine_tune", "loss/validation", "k"] {
        assert_eq!(c[tag], b[tag], "{tag}");
    }
    let files: Vec<String> = s_entries(&s.path("cut"))
        .into_iter()
        .filter(|n| n.contains("tfevents"))
        .collect();
    assert_eq!(files, ["events.out.tfevents.rrae"]);
}

fn s_entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}
