//! `report.html` of real runs, opened in a real browser: a grey 16×16 run and a colour
//! 3×8×8 run each leave a page whose sections are all there and whose every figure the
//! browser decodes (the page's script counts them into `<body data-images="n/n">`,
//! which `chromium --headless --dump-dom` prints). Without chromium it fails with the
//! install line.

#[path = "common/browser.rs"]
mod browser;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The golden tests' tiny model, with the adaptive rank search (so the report has
/// decisions to show).
fn grey() -> String {
    include_str!("fixtures/tiny.rrae").replace(
        "svd_truncate(k = 2)",
        "svd_truncate(k = adaptive, patience = 4, window = 2)",
    )
}

const COLOUR: &str = "data rgb = npy(train = \"rgb.npy\", split = 0.75)
model colour {
    input [3, 8, 8]
    encoder { conv2d(6, 3, stride = 2, padding = 1) relu flatten linear(8) }
    latent svd_truncate(k = 2)
    decoder { linear(6 * 4 * 4) reshape([6, 4, 4]) conv_transpose2d(6, 3, stride = 2, padding = 1, output_padding = 1) relu conv2d(3, 1) }
}
train { steps = 20 fine_tune_steps = 5 batch = 8 }
eval { interpolation_pairs = 2 random_samples = 4 }
";

const SECTIONS: [&str; 5] = ["figures", "metrics", "decisions", "graph", "source"];

fn dir() -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rrae-report-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}")); // ok: test
    d
}

/// `n` smooth colour images `[3, 8, 8]` as a float32 `.npy`.
fn write_rgb(path: &Path, n: usize) {
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, 3, 8, 8), }}");
    let pad = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for i in 0..n {
        for c in 0..3 {
            for p in 0..64 {
                let v = ((i * 7 + c * 3 + p) as f32 * 0.1).sin() * 0.5 + 0.5;
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}")); // ok: test
}

fn run(name: &str, source: &str) -> PathBuf {
    let d = dir();
    let file = d.join(format!("{name}.rrae"));
    std::fs::write(&file, source).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let out_dir = d.join(format!("{name}-run"));
    let out = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .args(["run", "-q", "--out"])
        .arg(&out_dir)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out_dir
}

fn check_report(run: &Path, figures: &[&str]) {
    let html = std::fs::read_to_string(run.join("report.html")).unwrap_or_else(|e| panic!("{e}")); // ok: test
    for id in SECTIONS {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "no {id} section"
        );
    }
    for f in figures {
        assert!(run.join(f).is_file(), "the run wrote no {f}");
        assert!(html.contains(&format!("alt=\"{f}\"")), "the page lacks {f}");
    }
    let images = html.matches("<img ").count();
    assert_eq!(images, figures.len(), "images in the page");
    let (dom, all) = browser::render(&run.join("report.html"));
    assert!(
        all,
        "the browser did not decode every image: {}",
        &dom[..dom.len().min(400)]
    );
    for id in SECTIONS {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "the rendered page has no {id} section"
        );
    }
}

#[test]
fn a_grey_and_a_colour_run_leave_a_report_the_browser_renders_whole() {
    let all = [
        "loss.png",
        "singular_values.png",
        "singular_values_log.png",
        "reconstructions.png",
        "interpolations.png",
        "samples.png",
    ];
    let grey = run("grey", &grey());
    // The bumps carry their centres as parameters: the page shows the predictions.
    let mut with_parameters = all.to_vec();
    with_parameters.push("parametric.png");
    check_report(&grey, &with_parameters);
    let html = std::fs::read_to_string(grey.join("report.html")).unwrap_or_default();
    assert!(
        html.contains("<ol class=\"timeline\">"),
        "the adaptive run's decisions are missing"
    );

    write_rgb(&dir().join("rgb.npy"), 48);
    let colour = run("colour", COLOUR);
    check_report(&colour, &all);
    // The colour grid is in colour: some pixel's channels differ.
    let png = std::fs::read(colour.join("reconstructions.png")).unwrap_or_default();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let mut buf = vec![0; reader.output_buffer_size()];
    reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert!(
        buf.chunks(3).any(|p| p[0] != p[1] || p[1] != p[2]),
        "the colour run's grid is grey"
    );
    let _ = std::fs::remove_dir_all(dir());
}

/// A float32 `.npy` of `shape` whose values come from `f(sample, position)`.
fn write_npy(path: &Path, shape: &[usize], f: impl Fn(usize, usize) -> f32) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    let pad = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    let per: usize = shape[1..].iter().product();
    for i in 0..shape[0] {
        for p in 0..per {
            bytes.extend_from_slice(&f(i, p).to_le_bytes());
        }
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}")); // ok: test
}

/// The (width, height) of a PNG, and whether it has more than a few colours (a plot,
/// not a blank or a grey strip).
fn png_look(path: &Path) -> ((u32, u32), usize) {
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())); // ok: test
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let colours: std::collections::HashSet<&[u8]> = buf.chunks(3).collect();
    ((info.width, info.height), colours.len())
}

#[test]
fn signals_and_vectors_get_curves_not_strips() {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rrae-report-curves-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}")); // ok: test
                                                                   // Shifted sines [1, 32] and 12-feature vectors, 40 samples each.
    write_npy(&d.join("sig.npy"), &[40, 1, 32], |i, p| {
        ((p as f32 * 0.2) + i as f32 * 0.15).sin()
    });
    write_npy(&d.join("vec.npy"), &[40, 12], |i, p| {
        (i as f32 * 0.05) * (p as f32 + 1.0).sqrt() + (p % 3) as f32
    });
    let model = |name: &str, input: &str, file: &str| {
        format!(
            "data d = npy(train = \"{file}\", split = 0.8)
model {name} {{
    input {input}
    encoder {{ flatten linear(16) relu linear(8) }}
    latent svd_truncate(k = 2)
    decoder {{ linear(16) relu linear({n}) reshape({input}) }}
}}
train {{ steps = 30 fine_tune_steps = 5 batch = 8 }}
eval {{ interpolation_pairs = 3 random_samples = 5 }}
",
            n = if input == "[12]" { 12 } else { 32 }
        )
    };
    for (name, input, file) in [("sig", "[1, 32]", "sig.npy"), ("vec", "[12]", "vec.npy")] {
        let f = d.join(format!("{name}.rrae"));
        std::fs::write(&f, model(name, input, file)).unwrap_or_else(|e| panic!("{e}")); // ok: test
        let out_dir = d.join(format!("{name}-run"));
        let out = Command::new(env!("CARGO_BIN_EXE_rrae"))
            .args(["run", "-q", "--device", "cpu", "--out"])
            .arg(&out_dir)
            .arg(&f)
            .output()
            .unwrap_or_else(|e| panic!("{e}")); // ok: test
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Four reconstruction panels and three interpolation panels, two to a row;
        // the samples in one plot: 800 × 500 each.
        for (png, size) in [
            ("reconstructions.png", (1600, 1000)),
            ("interpolations.png", (1600, 1000)),
            ("samples.png", (800, 500)),
        ] {
            let (got, colours) = png_look(&out_dir.join(png));
            assert_eq!(got, size, "{name}: {png}");
            assert!(colours > 20, "{name}: {png} has {colours} colours");
        }
        let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap_or_default();
        for png in ["reconstructions.png", "interpolations.png", "samples.png"] {
            assert!(
                html.contains(&format!("alt=\"{png}\"")),
                "{name}: {png} not in the report"
            );
        }
    }
    let _ = std::fs::remove_dir_all(d);
}
