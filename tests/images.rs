//! The `images` data source as a user meets it: a folder of colour PNG and JPEG files
//! written here, split by a CelebA-style partition file, trained on, and its artifact
//! sampled and decoded in colour; and the folders a user gets wrong, each a clear error
//! before training that leaves nothing behind.

use image::{ImageFormat, Rgb, RgbImage};
use std::path::Path;
use std::process::Output;

#[path = "common/scratch.rs"]
mod scratch;
use scratch::Scratch;

/// A scratch folder of this suite with an empty `img/` folder in it.
fn scratch(case: &str) -> Scratch {
    let s = Scratch::new("images", case);
    std::fs::create_dir_all(s.path("img")).unwrap();
    s
}

/// What the cases write.
trait Writes {
    fn images(&self, n: usize, w: u32, h: u32) -> Vec<String>;
    fn model(&self, data: &str);
}

impl Writes for Scratch {
    /// `n` images of `w`×`h`: a coloured square on grey whose place and colour vary;
    /// even ones PNG, odd ones JPEG.
    fn images(&self, n: usize, w: u32, h: u32) -> Vec<String> {
        (0..n)
            .map(|i| {
                let colour = [[220, 40, 40], [40, 200, 60], [50, 60, 230]][i % 3];
                let (x0, y0) = ((i as u32 * 3) % (w - 6), (i as u32 * 5) % (h - 6));
                let img = RgbImage::from_fn(w, h, |x, y| {
                    let inside = (x0..x0 + 6).contains(&x) && (y0..y0 + 6).contains(&y);
                    Rgb(if inside { colour } else { [70, 70, 70] })
                });
                let (name, format) = if i % 2 == 0 {
                    (format!("{i:04}.png"), ImageFormat::Png)
                } else {
                    (format!("{i:04}.jpg"), ImageFormat::Jpeg)
                };
                img.save_with_format(self.path("img").join(&name), format)
                    .unwrap();
                name
            })
            .collect()
    }
    fn model(&self, data: &str) {
        let src = format!(
            "use cnn\ndata faces = {data}\nmodel m {{\n    input [3, 16, 16]\n    encoder {{ cnn_encoder(latent = 16, widths = [8, 16]) }}\n    latent svd_truncate(k = 2)\n    decoder {{ cnn_decoder(out = [3, 16, 16], widths = [16, 8], channels = 8) }}\n}}\ntrain {{\n    steps = 30\n    fine_tune_steps = 5\n    batch = 8\n}}\neval {{\n    random_samples = 10\n    interpolation_pairs = 2\n}}\n"
        );
        std::fs::write(self.path("m.rrae"), src).unwrap();
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A PNG's colour type and whether any pixel has unequal channels.
fn colour_png(path: &Path) -> (image::ColorType, bool) {
    let img = image::open(path).unwrap();
    let colour = img.color();
    let rgb = img.to_rgb8();
    let tinted = rgb.pixels().any(|p| p[0] != p[1] || p[1] != p[2]);
    (colour, tinted)
}

#[test]
fn a_colour_folder_trains_and_its_artifact_samples_and_decodes_in_colour() {
    let s = scratch("colour");
    // Portrait and landscape images: `size` crops each to its central square.
    let mut names = s.images(18, 20, 24);
    names.extend(s.images(30, 24, 20).split_off(18));
    // A CelebA partition: 0 trains, 1 (validation) is left out, 2 tests.
    let partition: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n} {}\n", [0, 0, 0, 1, 2][i % 5]))
        .collect();
    std::fs::write(s.path("list_eval_partition.txt"), partition).unwrap();
    std::fs::write(s.path("img/.DS_Store"), b"hidden files are skipped").unwrap();
    s.model("images(train = \"img\", partition = \"list_eval_partition.txt\", size = 16)");
    let check = ok(s.rrae(&["check", "m.rrae"]));
    assert!(
        check.contains("samples [3, 16, 16], train 18, test 6, normalize MinMax"),
        "{check}"
    );
    ok(s.rrae(&["run", "m.rrae", "--out", "run", "-q"]));
    let run = s.path("run");
    for png in ["reconstructions.png", "samples.png", "interpolations.png"] {
        let (colour, tinted) = colour_png(&run.join(png));
        assert_eq!(colour, image::ColorType::Rgb8, "{png}");
        assert!(tinted, "{png} has no colour");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(
        (m["train_samples"].as_u64(), m["test_samples"].as_u64()),
        (Some(18), Some(6))
    );
    // The artifact samples a colour grid and decodes coefficients to 3 × 16 × 16 rows.
    let art = run.join("model.rra");
    let grid = s.path("grid.png");
    ok(s.rrae(&[
        "sample",
        art.to_str().unwrap(),
        "-n",
        "8",
        "-o",
        grid.to_str().unwrap(),
    ]));
    assert_eq!(colour_png(&grid).0, image::ColorType::Rgb8);
    let dec = s.path("decoded.npy");
    let out = ok(s.rrae(&[
        "decode",
        art.to_str().unwrap(),
        run.join("coefficients.npy").to_str().unwrap(),
        "-o",
        dec.to_str().unwrap(),
    ]));
    assert!(out.contains("18 coefficient rows"), "{out}");
    let bytes = std::fs::read(&dec).unwrap();
    let header = String::from_utf8_lossy(&bytes[..128]);
    assert!(header.contains("(18, 3, 16, 16)"), "{header}");
    // The decoded images were cached; a second run reads the cache and trains alike.
    let caches = || -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(s.path(".rrae-cache"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "npy"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(caches().len(), 2, "training and test sets");
    for c in caches() {
        assert!(
            c.with_extension("npy.xxh3").is_file(),
            "{} has its checksum",
            c.display()
        );
    }
    ok(s.rrae(&["run", "m.rrae", "--out", "again", "-q"]));
    let losses = |d: &str| std::fs::read_to_string(s.path(d).join("losses.csv")).unwrap();
    let strip = |t: String| -> Vec<String> {
        t.lines()
            .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(strip(losses("run")), strip(losses("again")));
    // A damaged cache is not used (issue 40): pixels inverted, or an f32 file of 1e30
    // in its place; either way the images are decoded anew, the run trains as the first
    // did, and the cache is written again.
    let original: Vec<Vec<u8>> = caches().iter().map(|c| std::fs::read(c).unwrap()).collect();
    let mut inverted = original[0].clone();
    let n = inverted.len();
    for b in &mut inverted[n - 3 * 16 * 16..] {
        *b = !*b;
    }
    std::fs::write(&caches()[0], &inverted).unwrap();
    ok(s.rrae(&["run", "m.rrae", "--out", "inverted", "-q"]));
    assert_eq!(strip(losses("run")), strip(losses("inverted")));
    assert_eq!(
        std::fs::read(&caches()[0]).unwrap(),
        original[0],
        "written again"
    );
    // As many samples as the cache holds, so that only the dtype and values differ.
    let count: usize = String::from_utf8_lossy(&original[0][..128])
        .split("'shape': (")
        .nth(1)
        .and_then(|t| t.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    let mut f32s = b"\x93NUMPY\x01\x00".to_vec();
    let head =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({count}, 3, 16, 16), }}");
    let head = format!("{head:<117}\n");
    f32s.extend((head.len() as u16).to_le_bytes());
    f32s.extend(head.bytes());
    for _ in 0..count * 3 * 16 * 16 {
        f32s.extend(1e30f32.to_le_bytes());
    }
    std::fs::write(&caches()[0], &f32s).unwrap();
    ok(s.rrae(&["run", "m.rrae", "--out", "f32", "-q"]));
    assert_eq!(strip(losses("run")), strip(losses("f32")));
    // With `limit_train`, only the images used are decoded (and cached).
    s.model("images(train = \"img\", partition = \"list_eval_partition.txt\", size = 16, limit_train = 5)");
    ok(s.rrae(&["run", "m.rrae", "--out", "limited", "-q"]));
    let headers: Vec<String> = caches()
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()[..128]).into_owned())
        .collect();
    assert!(
        headers.iter().any(|h| h.contains("(5, 3, 16, 16)")),
        "{headers:?}"
    );
    // Grey: one channel, the same folder.
    s.model(
        "images(train = \"img\", partition = \"list_eval_partition.txt\", size = 16, channels = 1)",
    );
    let src = std::fs::read_to_string(s.path("m.rrae"))
        .unwrap()
        .replace("[3, 16, 16]", "[1, 16, 16]");
    std::fs::write(s.path("m.rrae"), src).unwrap();
    ok(s.rrae(&["run", "m.rrae", "--out", "grey", "-q"]));
    let (_, tinted) = colour_png(&s.path("grey/reconstructions.png"));
    assert!(!tinted, "a grey run draws grey images");
}

/// Each mistake is refused with its file named; `check` catches what headers show, the
/// run what only decoding shows, before training and without leaving a run folder.
#[test]
fn bad_image_folders_are_clear_errors_that_leave_nothing_behind() {
    let s = scratch("bad");
    s.images(6, 16, 16);
    // A folder with another kind of file in it.
    std::fs::write(s.path("img/notes.txt"), "not an image").unwrap();
    s.model("images(train = \"img\")");
    let out = s.rrae(&["check", "m.rrae"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error[E039]")
            && err.contains("`notes.txt` is not a .png, .jpg or .jpeg file"),
        "{err}"
    );
    std::fs::remove_file(s.path("img/notes.txt")).unwrap();
    // A corrupt image: only decoding finds it.
    std::fs::write(s.path("img/0003.jpg"), b"\xff\xd8\xff garbage").unwrap();
    let before = s.entries();
    ok(s.rrae(&["check", "m.rrae"]));
    let out = s.rrae(&["run", "m.rrae", "--out", "run", "-q"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("0003.jpg") && err.contains("cannot decode the image"),
        "{err}"
    );
    assert_eq!(s.entries(), before, "no run folder, no cache");
    // Mixed sizes without `size`.
    s.images(6, 16, 16);
    RgbImage::new(16, 12).save(s.path("img/0005.png")).unwrap();
    let out = s.rrae(&["run", "m.rrae", "--out", "run", "-q"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("0005.png") && err.contains("this image is 16×12, the first one 16×16"),
        "{err}"
    );
    assert!(err.contains("`size = …`"), "{err}");
    assert_eq!(s.entries(), before);
    // An empty folder.
    std::fs::remove_dir_all(s.path("img")).unwrap();
    std::fs::create_dir(s.path("img")).unwrap();
    let out = s.rrae(&["check", "m.rrae"]);
    assert!(
        text(&out.stderr).contains("error[E042]"),
        "{}",
        text(&out.stderr)
    );
    // A missing folder, a test folder beside a partition, and two channels.
    s.model("images(train = \"nowhere\")");
    let err = text(&s.rrae(&["check", "m.rrae"]).stderr);
    assert!(
        err.contains("error[E039]") && err.contains("no such folder"),
        "{err}"
    );
    s.model("images(train = \"img\", test = \"img\", partition = \"p.txt\")");
    let err = text(&s.rrae(&["check", "m.rrae"]).stderr);
    assert!(
        err.contains("error[E038]") && err.contains("not both"),
        "{err}"
    );
    s.model("images(train = \"img\", channels = 2)");
    let err = text(&s.rrae(&["check", "m.rrae"]).stderr);
    assert!(err.contains("3 (RGB) or 1 (grey)"), "{err}");
    // Labels: an attribute without its file, and an image without a label.
    s.images(2, 16, 16);
    s.model("images(train = \"img\", label = \"Smiling\")");
    let err = text(&s.rrae(&["check", "m.rrae"]).stderr);
    assert!(
        err.contains("error[E038]") && err.contains("give `labels` too"),
        "{err}"
    );
    std::fs::write(s.path("attr.txt"), "2\nSmiling Male\n0000.png 1 -1\n").unwrap();
    s.model("images(train = \"img\", labels = \"attr.txt\", label = \"Smiling\")");
    let err = text(&s.rrae(&["check", "m.rrae"]).stderr);
    assert!(
        err.contains("error[E039]") && err.contains("image `0001.jpg` has no label"),
        "{err}"
    );
}

/// The shipped CelebA example reads CelebA's layout: a folder of 178 × 218 JPEGs and the
/// partition file. Laid out here with 9 generated photos, it checks, and a few steps of
/// its (large) network train on them.
#[test]
fn the_celeba_example_reads_celebas_layout() {
    let s = scratch("celeba");
    std::fs::rename(s.path("img"), s.path("img_align_celeba")).unwrap();
    let names: Vec<String> = (1..=9).map(|i| format!("{i:06}.jpg")).collect();
    for (i, n) in names.iter().enumerate() {
        let img = RgbImage::from_fn(178, 218, |x, y| {
            Rgb([(x * 255 / 178) as u8, (y * 255 / 218) as u8, (i * 28) as u8])
        });
        img.save(s.path("img_align_celeba").join(n)).unwrap();
    }
    let partition: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(
                "{n} {}\n",
                if i < 6 {
                    0
                } else if i < 7 {
                    1
                } else {
                    2
                }
            )
        })
        .collect();
    std::fs::write(s.path("list_eval_partition.txt"), partition).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let src = std::fs::read_to_string(root.join("examples/celeba/celeba.rrae")).unwrap();
    std::fs::write(s.path("celeba.rrae"), &src).unwrap();
    // The stdlib is found beside the binary's sources, as for any model file.
    let check = ok(s.rrae(&["check", "celeba.rrae"]));
    assert!(
        check.contains("samples [3, 64, 64], train 6, test 2, normalize MinMax"),
        "{check}"
    );
    let small = src
        .replace("batch = 64", "batch = 3")
        .replace("let L = 512", "let L = 8")
        .replace("k = adaptive, max_steps = 40000", "k = 2");
    std::fs::write(s.path("small.rrae"), small).unwrap();
    ok(s.rrae(&[
        "run",
        "small.rrae",
        "--steps",
        "2",
        "--fine-tune-steps",
        "1",
        "--out",
        "run",
        "-q",
    ]));
    let (colour, tinted) = colour_png(&s.path("run/reconstructions.png"));
    assert_eq!(colour, image::ColorType::Rgb8);
    assert!(tinted);
}

/// The colour row's four models (bench/colour/) are one line apart and check against a
/// folder of 64 × 64 RGBA PNGs like the emoji set they train on.
#[test]
fn the_colour_row_models_are_one_line_apart_and_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let s = scratch("colour-row");
    for i in 0..20u8 {
        image::RgbaImage::from_pixel(64, 64, image::Rgba([i * 12, 200, 90, 255]))
            .save(s.path("img").join(format!("{i:02}.png")))
            .unwrap();
    }
    let read = |stem: &str| {
        std::fs::read_to_string(root.join(format!("bench/colour/{stem}.rrae")))
            .unwrap()
            .replace("../../target/emoji/img", "img")
            .replace("../../target/emoji/labels.txt", "labels.txt")
    };
    let labels: String = (0..20)
        .map(|i| format!("{i:02}.png {}\n", i % 10))
        .collect();
    std::fs::write(s.path("labels.txt"), labels).unwrap();
    let base = read("rrae");
    for (stem, latent) in [
        ("rrae", "svd_truncate(k=16)"),
        ("long", "identity"),
        ("diabolo", "[16]"),
        ("arrae", "svd_truncate(k=adaptive"),
    ] {
        let text = read(stem);
        let diff = text
            .lines()
            .zip(base.lines())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(text.lines().count(), base.lines().count(), "{stem}");
        assert_eq!(diff, usize::from(stem != "rrae"), "{stem}");
        std::fs::write(s.path(&format!("{stem}.rrae")), text).unwrap();
        let check = ok(s.rrae(&["check", &format!("{stem}.rrae")]));
        assert!(check.contains("samples [3, 64, 64], train 20"), "{check}");
        assert!(check.contains(latent), "{stem}: {check}");
    }
}

#[test]
fn save_images_writes_the_evaluated_sets_that_give_the_runs_metrics() {
    let s = scratch("save-images");
    let names = s.images(20, 16, 16);
    let partition: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n} {}\n", [0, 0, 0, 2][i % 4]))
        .collect();
    std::fs::write(s.path("list_eval_partition.txt"), partition).unwrap();
    s.model("images(train = \"img\", partition = \"list_eval_partition.txt\")");
    // Without the flag, no images are written.
    ok(s.rrae(&["run", "m.rrae", "--out", "plain", "-q"]));
    assert!(!s.path("plain/images").exists());
    ok(s.rrae(&["run", "m.rrae", "--out", "run", "-q", "--save-images"]));
    let read = |name: &str| {
        let (h, v) =
            rrae_engine::files::read_npy(&s.path("run/images").join(format!("{name}.npy")))
                .unwrap();
        assert_eq!(h.dtype, "f32", "{name}");
        let mut shape = vec![h.count];
        shape.extend(h.sample);
        (shape, v)
    };
    let (test_shape, test) = read("test");
    let (rec_shape, rec) = read("reconstructions");
    // eval: 2 pairs × 5 points and 10 samples (the model's eval block).
    assert_eq!(test_shape, [5, 3, 16, 16]);
    assert_eq!(rec_shape, [5, 3, 16, 16]);
    assert_eq!(read("interpolations").0, [10, 3, 16, 16]);
    assert_eq!(read("samples").0, [10, 3, 16, 16]);
    // The real test images in original units: the files' bytes (0 … 255), and the
    // reconstruction error of the two files is the run's test error.
    assert!(test
        .iter()
        .all(|v| (v - v.round()).abs() < 1e-3 && (0.0..=255.0).contains(v)));
    assert!(test.iter().any(|&v| v > 200.0), "the red squares");
    let (num, den) = rec.iter().zip(&test).fold((0.0, 0.0), |(n, d), (r, t)| {
        let (r, t) = (f64::from(*r), f64::from(*t));
        (n + (r - t).powi(2), d + t * t)
    });
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("run/metrics.json")).unwrap())
            .unwrap();
    let reported = m["metrics"]["test_error"].as_f64().unwrap();
    let from_files = 100.0 * (num / den).sqrt();
    assert!(
        (from_files - reported).abs() < 1e-4 * reported,
        "{from_files} against {reported}"
    );
    // `rrae eval --save-images` repeats the run's draws: the same files, byte for byte.
    let bytes = |d: &str| -> Vec<Vec<u8>> {
        ["test", "reconstructions", "interpolations", "samples"]
            .iter()
            .map(|n| std::fs::read(s.path(d).join(format!("images/{n}.npy"))).unwrap())
            .collect()
    };
    let first = bytes("run");
    ok(s.rrae(&["eval", "run", "--save-images"]));
    assert!(first == bytes("run"), "eval wrote other images");
}
