//! rrae against paths that are not regular files (issue 40, findings 1 and 2): a FIFO
//! named like an image, a data file or a labels file; `/dev/zero` as a `use`d file, a
//! partition or a data file; a folder where a file is expected; and a `use`d file over
//! the cap. Each command runs under a deadline and a 2 GiB address-space limit: before,
//! a FIFO hung `check` and `run` for good and `/dev/zero` grew until memory ran out.
//! Each case asserts the exit code, the message naming the path and what it is, and
//! that no run folder was made.

use image::{Rgb, RgbImage};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "common/scratch.rs"]
mod scratch;
use scratch::Scratch;

fn scratch(case: &str) -> Scratch {
    Scratch::new("special-files", case)
}

/// `rrae ARGS` in `dir` with a 2 GiB address-space limit (`ulimit -v`), killed after 60
/// seconds: a hang or a runaway allocation fails the case instead of the machine.
fn bounded(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2097152 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_rrae"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("`rrae {}` hung for 60 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(ok.success(), "mkfifo {}", p.display());
}

/// `check` and `run` of `case.rrae` both refuse it: exit 1, no panic, the message says
/// every one of `says`, and no run folder is left.
fn both_refuse(s: &Scratch, says: &[&str]) {
    for args in [
        &["check", "case.rrae"][..],
        &["run", "case.rrae", "--out", "run", "-q"],
    ] {
        let out = bounded(&s.path(""), args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        for w in says {
            assert!(err.contains(w), "{args:?} does not say {w:?}:\n{err}");
        }
        assert!(!s.path("run").exists(), "{args:?} left a run folder");
    }
}

/// A small model on `data` with 16×16 colour inputs.
fn model(data: &str, extra: &str) -> String {
    format!(
        "{extra}data d = {data}\nmodel m {{\n    input [3, 16, 16]\n    encoder {{ flatten linear(8) }}\n    latent svd_truncate(k = 2)\n    decoder {{ linear(768) reshape([3, 16, 16]) }}\n}}\ntrain {{\n    steps = 3\n    fine_tune_steps = 1\n    batch = 4\n}}\n"
    )
}

fn image_folder(s: &Scratch, n: usize) {
    std::fs::create_dir_all(s.path("img")).unwrap();
    for i in 0..n {
        RgbImage::from_fn(16, 16, |x, y| {
            Rgb([(x * 9) as u8, (y * 9) as u8, (i * 30) as u8])
        })
        .save(s.path("img").join(format!("{i:02}.png")))
        .unwrap();
    }
}

#[test]
fn a_fifo_named_like_an_image_is_refused_not_waited_for() {
    let s = scratch("fifo-image");
    image_folder(&s, 8);
    // Named to sort first: `check` reads the first image's header for the shape.
    mkfifo(&s.path("img/0.png"));
    // Without `size`, `check` reads the first image's header for the input shape.
    s.write("case.rrae", model("images(train = \"img\")", ""));
    both_refuse(&s, &["0.png", "is a FIFO (named pipe), not a regular file"]);
    // With it, `check` opens no image, and `run` refuses the FIFO when it decodes.
    s.write("case.rrae", model("images(train = \"img\", size = 16)", ""));
    let out = bounded(&s.path(""), &["check", "case.rrae"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bounded(&s.path(""), &["run", "case.rrae", "--out", "run", "-q"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("0.png") && err.contains("is a FIFO (named pipe)"),
        "{err}"
    );
    // Without it the same folder trains.
    std::fs::remove_file(s.path("img/0.png")).unwrap();
    let out = bounded(&s.path(""), &["run", "case.rrae", "--out", "run", "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_fifo_as_labels_or_partition_and_dev_zero_as_a_partition_are_refused() {
    let s = scratch("fifo-labels");
    image_folder(&s, 8);
    mkfifo(&s.path("labels.csv"));
    s.write(
        "case.rrae",
        model(
            "images(train = \"img\", size = 16, labels = \"labels.csv\")",
            "",
        ),
    );
    both_refuse(&s, &["labels.csv", "is a FIFO (named pipe)"]);
    s.write(
        "case.rrae",
        model(
            "images(train = \"img\", size = 16, partition = \"/dev/zero\")",
            "",
        ),
    );
    both_refuse(&s, &["/dev/zero", "is a device, not a regular file"]);
}

#[test]
fn dev_zero_and_a_fifo_as_data_files_are_refused() {
    let s = scratch("data");
    s.write("case.rrae", model("npy(train = \"/dev/zero\")", ""));
    both_refuse(&s, &["/dev/zero", "is a device, not a regular file"]);
    mkfifo(&s.path("x.npy"));
    s.write("case.rrae", model("npy(train = \"x.npy\")", ""));
    both_refuse(&s, &["x.npy", "is a FIFO (named pipe)"]);
    std::fs::create_dir_all(s.path("dir.npy")).unwrap();
    s.write("case.rrae", model("npy(train = \"dir.npy\")", ""));
    both_refuse(&s, &["dir.npy", "is a folder, not a regular file"]);
}

#[test]
fn a_used_file_that_is_a_device_a_fifo_or_over_the_cap_is_refused() {
    let s = scratch("use");
    let data = "npy(train = \"x.npy\")";
    s.write("case.rrae", model(data, "use \"/dev/zero\"\n"));
    both_refuse(&s, &["/dev/zero", "is a device, not a regular file"]);
    mkfifo(&s.path("pipe.rrae"));
    s.write("case.rrae", model(data, "use \"pipe.rrae\"\n"));
    both_refuse(&s, &["pipe.rrae", "is a FIFO (named pipe)"]);
    // 65 MiB of comment lines: past the 64 MiB cap, said with the cap.
    let line = format!("#{}\n", "x".repeat(1023));
    s.write("big.rrae", line.repeat(65 * 1024));
    s.write("case.rrae", model(data, "use \"big.rrae\"\n"));
    both_refuse(
        &s,
        &[
            "big.rrae",
            "is 68224000 bytes, over the 64 MiB rrae reads of such a file",
        ],
    );
}

#[test]
fn a_model_file_that_is_a_fifo_or_a_device_is_refused() {
    let s = scratch("model");
    mkfifo(&s.path("pipe.rrae"));
    for (file, says) in [("pipe.rrae", "is a FIFO"), ("/dev/zero", "is a device")] {
        for cmd in ["check", "run"] {
            let out = bounded(&s.path(""), &[cmd, file]);
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(2), "{cmd} {file}: {err}");
            assert!(
                err.contains(file) && err.contains(says),
                "{cmd} {file}: {err}"
            );
        }
    }
}

/// Issue 40 (minor): an image whose header claims 0×0 pixels is named as damaged; the
/// shape advice `input [3, 0, 0]` is not given.
#[test]
fn an_image_header_of_zero_pixels_is_damage_not_a_shape() {
    let s = scratch("zero-png");
    image_folder(&s, 4);
    // A PNG signature and an IHDR chunk of width 0 and height 0, sorted first.
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    png.extend([0u8; 8]);
    png.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
    s.write("img/0.png", &png);
    s.write("case.rrae", model("images(train = \"img\")", ""));
    let out = bounded(&s.path(""), &["check", "case.rrae"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("0.png") && err.contains("its header says 0×0 pixels"),
        "{err}"
    );
    assert!(!err.contains("input [3, 0, 0]"), "{err}");
}
