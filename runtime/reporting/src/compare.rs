//! `rrae compare`: several finished runs side by side, as the paper's Table 1 — train
//! and test error, interpolation and random-sampling error (each generated sample
//! against its best-fitting bump, mean ± std over samples), and interpolation against
//! the bump at the interpolated centre — with the latent singular values of every model
//! in one figure (the paper's Figure 5) and their interpolations and samples stacked
//! (Figures 3 and 4).
//!
//! It reads run folders (`metrics.json`, or the newer `eval.json` of `rrae eval`, and
//! the PNGs `rrae run` wrote); the CLI trains the `.rrae` files it is given first.

use crate::error::{Result, RunError};
use crate::plot::{captioned, line_plot, stacked, Canvas, Figure, Series, PALETTE};
use crate::report::{document_start, figures_html, read_figures, DOCUMENT_END};
use html_escape::encode_text as esc;
use rrae_train::output::write_atomic;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One model's line of the table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    pub name: String,
    pub dir: PathBuf,
    /// The `latent` line of its source.
    pub latent: String,
    /// The latent width L (a Diabolo AE's is its k).
    pub latent_dim: Option<u64>,
    pub k: Option<u64>,
    pub train_error: f64,
    pub test_error: f64,
    /// (mean, std) of the best-fitting-bump error over interpolated samples and over
    /// random samples: the paper's Table 1 columns (bump data).
    pub interpolation: Option<(f64, f64)>,
    pub sampling: Option<(f64, f64)>,
    /// (mean, std) over interpolated samples against the bump at the linearly
    /// interpolated centre: a stricter measure the paper does not use.
    pub interpolation_centre: Option<(f64, f64)>,
    pub latent_rank: u64,
    /// FID, local classifier features (labelled images): interpolations, random samples.
    pub fid_interpolation: Option<f64>,
    pub fid_sampling: Option<f64>,
    /// The standard FID (Inception-v3 features), where the run had it.
    pub fid_inception_interpolation: Option<f64>,
    pub fid_inception_sampling: Option<f64>,
    pub train_steps: u64,
    pub wall_seconds: f64,
    pub singular_values: Vec<f64>,
}

fn mean_std(v: &Value) -> Option<(f64, f64)> {
    Some((v.get("mean")?.as_f64()?, v.get("std")?.as_f64()?))
}

/// Reads a finished run folder.
pub fn read_run(dir: &Path) -> Result<Row> {
    let path = dir.join("metrics.json");
    let bad = |reason: String| RunError::read(path.clone(), reason);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        // Say why there is no result yet where the folder says it.
        if let Some(pid) = crate::lock::held_by(dir) {
            let who = pid.map_or("an rrae process".into(), |p| format!("rrae process {p}"));
            bad(format!(
                "the run is still training ({who} holds {}); wait for it to finish, then compare",
                dir.join(crate::lock::FILE).display()
            ))
        } else if rrae_train::checkpoint::path_in(dir).exists() {
            bad(format!(
                "the run was interrupted before it finished; `rrae run FILE --resume {}` finishes it",
                dir.display()
            ))
        } else {
            bad(format!("{e} (is it a finished run folder?)"))
        }
    })?;
    let mut r: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    // `rrae eval DIR` re-evaluates a saved model into eval.json: its metrics are the
    // newer (they may have measures the run's own evaluation did not have yet).
    let eval_path = dir.join("eval.json");
    if let Ok(text) = std::fs::read_to_string(&eval_path) {
        let e: Value = serde_json::from_str(&text)
            .map_err(|e| RunError::read(eval_path.clone(), e.to_string()))?;
        r["metrics"] = e;
    }
    let m = &r["metrics"];
    let f = |v: &Value, what: &str| v.as_f64().ok_or_else(|| bad(format!("no `{what}`")));
    let latent = r["source"]
        .as_str()
        .and_then(|s| s.lines().map(str::trim).find(|l| l.starts_with("latent ")))
        .map(|l| l.trim_start_matches("latent ").to_string())
        .unwrap_or_default();
    Ok(Row {
        // The run folder's name: `rrae compare` names it after the file, and the zoo's
        // files all declare `model rrae` (they differ in one line).
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .or_else(|| r["model"].as_str().map(str::to_string))
            .unwrap_or_else(|| "?".into()),
        dir: dir.to_path_buf(),
        latent,
        // Runs written before `latent_dim` was recorded: the encoder's singular values
        // number min(L, training samples), which is L for every data set here.
        latent_dim: r["latent_dim"].as_u64().or_else(|| {
            m["singular_values_encoder"]
                .as_array()
                .map(|a| a.len() as u64)
                .filter(|&n| n > 0)
        }),
        k: r["k"].as_u64(),
        train_error: f(&m["train_error"], "metrics.train_error")?,
        test_error: f(&m["test_error"], "metrics.test_error")?,
        interpolation: mean_std(&m["interpolation_bump_fit"]),
        sampling: mean_std(&m["sampling_bump_fit"]),
        interpolation_centre: mean_std(&m["interpolation_per_sample"]),
        latent_rank: m["latent_rank"].as_u64().unwrap_or(0),
        fid_interpolation: m["fid_interpolation"].as_f64(),
        fid_sampling: m["fid_sampling"].as_f64(),
        fid_inception_interpolation: m["fid_inception_interpolation"].as_f64(),
        fid_inception_sampling: m["fid_inception_sampling"].as_f64(),
        train_steps: r["train_steps_done"].as_u64().unwrap_or(0),
        wall_seconds: r["wall_seconds"].as_f64().unwrap_or(f64::NAN),
        singular_values: m["singular_values_latent"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default(),
    })
}

fn pm(v: Option<(f64, f64)>) -> String {
    v.map(|(m, s)| format!("{m:.2} ± {s:.2}"))
        .unwrap_or_else(|| "—".into())
}

fn fid(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into())
}

/// The table's header and cells, one row per model, `#` numbering the rows as in the
/// figures: what the Markdown table and compare.html both show. The standard FID's
/// columns follow the local FID's when any run has it.
pub fn cells(rows: &[Row]) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let (mut header, mut body) = base_cells(rows);
    if rows.iter().any(|r| {
        r.fid_inception_interpolation
            .or(r.fid_inception_sampling)
            .is_some()
    }) {
        let at = 12;
        header.splice(at..at, ["FID-Inception interp.", "FID-Inception sampling"]);
        for (cells, r) in body.iter_mut().zip(rows) {
            cells.splice(
                at..at,
                [
                    fid(r.fid_inception_interpolation),
                    fid(r.fid_inception_sampling),
                ],
            );
        }
    }
    (header, body)
}

fn base_cells(rows: &[Row]) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "#",
        "model",
        "latent",
        "L",
        "k",
        "train %",
        "test %",
        "interpolation %",
        "random sampling %",
        "interp. vs centre %",
        "FID interp.",
        "FID sampling",
        "latent rank",
        "steps",
        "wall s",
    ];
    let body = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.name.clone(),
                r.latent.clone(),
                r.latent_dim.map_or_else(|| "—".into(), |l| l.to_string()),
                r.k.map_or_else(|| "—".into(), |k| k.to_string()),
                format!("{:.2}", r.train_error),
                format!("{:.2}", r.test_error),
                pm(r.interpolation),
                pm(r.sampling),
                pm(r.interpolation_centre),
                fid(r.fid_interpolation),
                fid(r.fid_sampling),
                r.latent_rank.to_string(),
                r.train_steps.to_string(),
                format!("{:.0}", r.wall_seconds),
            ]
        })
        .collect();
    (header, body)
}

/// A table cell's text as Markdown reads it back: `|` escaped, line breaks as spaces,
/// and `<`, `>`, `&` as entities, so a run folder's name cannot break the table or
/// inject markup into a renderer.
pub fn md_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// The table in Markdown (the latent operator in code style).
pub fn table(rows: &[Row]) -> String {
    let (header, mut body) = cells(rows);
    for row in &mut body {
        row[2] = format!("`{}`", row[2].replace('`', "'"));
    }
    markdown(&header, &body)
}

/// A Markdown table of `header` and `body`, every cell escaped ([`md_cell`]).
pub fn markdown(header: &[&str], body: &[Vec<String>]) -> String {
    let mut s = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        " --- |".repeat(header.len())
    );
    for row in body {
        let row: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
        s.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    s
}

/// A table above the per-run one in compare.html (`rrae sweep`'s grouped table).
pub struct Extra<'a> {
    pub title: &'a str,
    pub header: &'a [&'static str],
    pub body: &'a [Vec<String>],
    /// A sentence under it.
    pub note: &'a str,
}

/// An HTML table; `td(row, column, text)` gives a cell's inner HTML.
fn html_table(
    h: &mut String,
    header: &[&str],
    body: &[Vec<String>],
    td: impl Fn(usize, usize, &str) -> String,
) {
    h.push_str("<table>\n<tr>");
    for c in header {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    h.push_str("</tr>\n");
    for (r, cells) in body.iter().enumerate() {
        h.push_str("<tr>");
        for (i, c) in cells.iter().enumerate() {
            let _ = write!(h, "<td>{}</td>", td(r, i, c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// Stacks the same PNG of every run, each under a caption with its row number, name
/// and latent operator.
fn stack(rows: &[Row], name: &str) -> Result<Option<Canvas>> {
    let mut parts = vec![];
    for (i, r) in rows.iter().enumerate() {
        let p = r.dir.join(name);
        if p.is_file() {
            let text = format!("{}. {}  ({})", i + 1, r.name, r.latent);
            parts.push(captioned(Canvas::load(&p)?, &text));
        }
    }
    Ok((!parts.is_empty()).then(|| stacked(&parts, 6)))
}

/// Writes `compare.md`, `compare.json` and the figures to `out` (with `extra` at the
/// top of compare.html); returns the table.
pub fn write(rows: &[Row], out: &Path, extra: Option<Extra>) -> Result<String> {
    std::fs::create_dir_all(out).map_err(|e| RunError::write(out.to_path_buf(), e))?;
    let t = table(rows);
    let mut md = String::from("Colours in the singular-value figures follow the rows: ");
    let names: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let c = PALETTE[i % PALETTE.len()];
            format!(
                "{} {} (#{:02x}{:02x}{:02x})",
                i + 1,
                md_cell(&r.name),
                c[0],
                c[1],
                c[2]
            )
        })
        .collect();
    md.push_str(&names.join(", "));
    md = format!("{t}\n{md}.\n");
    write_atomic(&out.join("compare.md"), md.as_bytes())?;
    let json = serde_json::to_string_pretty(rows)
        .map_err(|e| RunError::write(out.join("compare.json"), e))?;
    write_atomic(&out.join("compare.json"), json.as_bytes())?;
    let sv: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.singular_values.iter().take(64).copied().collect())
        .collect();
    let figure = |log: bool| Figure {
        title: if log {
            "Singular values of each model's latents (log scale)".into()
        } else {
            "Singular values of each model's latents".into()
        },
        x_label: "index i".into(),
        y_label: "σᵢ / σ₁ (latents the decoder sees)".into(),
        log_y: log,
        series: rows
            .iter()
            .zip(&sv)
            .enumerate()
            .map(|(i, (r, v))| {
                // Exact zeros have no logarithm; the floor keeps them on the plot.
                let v: Vec<f64> = v
                    .iter()
                    .map(|x| if log { x.max(1e-12) } else { *x })
                    .collect();
                Series::indexed(&r.name, &v, 1.0, PALETTE[i % PALETTE.len()])
            })
            .collect(),
        marks: vec![],
    };
    line_plot(&figure(false)).save(&out.join("singular_values.png"))?;
    line_plot(&figure(true)).save(&out.join("singular_values_log.png"))?;
    for name in ["interpolations.png", "samples.png"] {
        if let Some(c) = stack(rows, name)? {
            c.save(&out.join(name))?;
        }
    }
    write_html(rows, out, extra)?;
    Ok(t)
}

/// The figures `rrae compare` writes, with what each shows.
const COMPARE_FIGURES: &[(&str, &str)] = &[
    ("singular_values.png", "Normalised singular values of the latents each decoder sees, one colour per model (the legend names them)."),
    ("singular_values_log.png", "The same on a log scale: where each model's curve falls off is the rank its bottleneck keeps."),
    ("interpolations.png", "Interpolations, one model per band in table order, each captioned with its row, name and latent operator."),
    ("samples.png", "Random samples, one model per band in table order."),
];

/// Writes `out/compare.html`: the models side by side as the paper's tables put them,
/// each name linking to its run's own report, and the comparison figures.
fn write_html(rows: &[Row], out: &Path, extra: Option<Extra>) -> Result<()> {
    let (header, body) = cells(rows);
    let mut h = document_start(&format!("rrae compare: {} models", rows.len()));
    let _ = write!(
        h,
        "<h1>{} models side by side</h1>\n<nav><a href=\"#table\">Table</a> · <a href=\"#figures\">Figures</a></nav>\n",
        rows.len()
    );
    if let Some(e) = extra {
        let _ = writeln!(h, "<section id=\"summary\">\n<h2>{}</h2>", esc(e.title));
        html_table(&mut h, e.header, e.body, |_, _, c| esc(c).into_owned());
        let _ = writeln!(h, "<p>{}</p>\n</section>", esc(e.note));
    }
    h.push_str("<section id=\"table\">\n<h2>Table</h2>\n");
    // The model's name links to its run's own report.
    html_table(&mut h, &header, &body, |r, i, c| {
        let report = rows[r].dir.join("report.html");
        if i == 1 && report.is_file() {
            let href = std::fs::canonicalize(&report).unwrap_or(report);
            format!(
                "<a href=\"file://{}\">{}</a>",
                html_escape::encode_double_quoted_attribute(&href.to_string_lossy()),
                esc(c)
            )
        } else {
            esc(c).into_owned()
        }
    });
    h.push_str("</section>\n");
    h.push_str(&figures_html(&read_figures(out, COMPARE_FIGURES)));
    h.push_str(DOCUMENT_END);
    Ok(write_atomic(&out.join("compare.html"), h.as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest metrics.json `read_run` accepts, with or without `latent_dim`.
    fn run_dir(name: &str, latent_dim: Option<u64>) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rrae-compare-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap(); // ok: test
        let mut r = serde_json::json!({
            "model": "m",
            "source": "model m {\n    latent identity\n}\n",
            "k": null,
            "metrics": {
                "train_error": 1.5,
                "test_error": 2.5,
                "singular_values_encoder": [1.0, 0.5, 0.25],
            }
        });
        if let Some(l) = latent_dim {
            r["latent_dim"] = l.into();
        }
        std::fs::write(dir.join("metrics.json"), r.to_string()).unwrap(); // ok: test
        dir
    }

    #[test]
    fn rows_read_the_latent_width_or_infer_it_for_older_runs() {
        let new = run_dir("new", Some(64));
        let old = run_dir("old", None);
        let (a, b) = (read_run(&new).unwrap(), read_run(&old).unwrap()); // ok: test
        assert_eq!((a.latent_dim, b.latent_dim), (Some(64), Some(3)));
        assert_eq!(a.latent, "identity");
        let t = table(&[a, b]);
        assert!(t.contains("| `identity` | 64 | — | 1.50 | 2.50 |"), "{t}");
        assert!(t.contains("| `identity` | 3 | — |"), "{t}");
        for d in [new, old] {
            std::fs::remove_dir_all(d).unwrap(); // ok: test
        }
    }

    /// A run folder's name cannot break the Markdown table or put markup in it.
    #[test]
    fn names_are_escaped_in_the_markdown_table() {
        let dir = run_dir("a|b\n<i>&", Some(8));
        let t = table(&[read_run(&dir).unwrap()]); // ok: test
        let row = t.lines().nth(2).unwrap_or_default();
        assert_eq!(row.matches(" | ").count(), 14, "one cell per column: {row}");
        assert!(row.contains("a\\|b &lt;i&gt;&amp;"), "{row}");
        assert_eq!(t.lines().count(), 3, "no line break inside a row: {t}");
        std::fs::remove_dir_all(dir).unwrap(); // ok: test
    }

    #[test]
    fn a_re_evaluation_supersedes_the_runs_metrics() {
        let dir = run_dir("reeval", Some(64));
        let t = table(&[read_run(&dir).unwrap()]); // ok: test
        assert!(t.contains("| 1.50 | 2.50 | — | — | — |"), "{t}");
        let e = serde_json::json!({
            "train_error": 1.25,
            "test_error": 2.25,
            "interpolation_bump_fit": {"mean": 7.5, "std": 1.0, "median": 7.0},
            "sampling_bump_fit": {"mean": 4.0, "std": 0.5, "median": 3.9},
            "interpolation_per_sample": {"mean": 30.0, "std": 9.0, "median": 25.0},
        });
        std::fs::write(dir.join("eval.json"), e.to_string()).unwrap(); // ok: test
        let t = table(&[read_run(&dir).unwrap()]); // ok: test
        assert!(
            t.contains("| 1.25 | 2.25 | 7.50 ± 1.00 | 4.00 ± 0.50 | 30.00 ± 9.00 |"),
            "{t}"
        );
        std::fs::write(dir.join("eval.json"), "{").unwrap(); // ok: test
        assert!(read_run(&dir).is_err(), "a corrupt eval.json is an error");
        std::fs::remove_dir_all(dir).unwrap(); // ok: test
    }
}
