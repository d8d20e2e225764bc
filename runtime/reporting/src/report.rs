//! `report.html`: one self-contained page per run folder, for a person to read — the
//! headline numbers, every figure, the metrics, the adaptive-k decisions as a timeline,
//! the checked graph and the model file. No network, no server, no script from
//! elsewhere: the figures are inlined as data URIs, the style is in the page.
//!
//! The page is built from the run folder's own files (`metrics.json`,
//! `decisions.jsonl`, the PNGs) and the checked IR, so `rrae eval` rebuilds it after
//! rewriting them. Its one script counts the images the browser decoded into
//! `data-images` on `<body>` (`"7/7"`), which the browser test reads back.

use crate::error::Result;
use base64::Engine as _;
use html_escape::encode_text as esc;
use rrae_lang::Ir;
use rrae_train::output::write_atomic;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// The figures a run writes, in reading order, with what each shows.
const FIGURES: &[(&str, &str)] = &[
    ("loss.png", "Loss per step (log scale): training in blue, then fine-tuning in orange; the validation loss (test samples) in green; where the latent operator adds a term to the loss (a VAE's or VRRAE's KL, LoRAE's nuclear norm, a sparsity, contractive or Weak RRAE penalty), that term in purple, named in the legend."),
    ("singular_values.png", "Normalised singular values by index: the encoder's latents (blue) and the latents the decoder sees (orange)."),
    ("singular_values_log.png", "The same singular values on a log scale: the rank the bottleneck keeps is where orange falls off."),
    ("reconstructions.png", "Training samples and their reconstructions: images in two rows (samples above), signals and vectors one panel each (sample grey, reconstruction blue)."),
    ("interpolations.png", "Interpolation between pairs of training samples, linear in the basis coefficients: images one pair per row (the ends are the pair), signals and vectors one panel per pair (from blue to orange)."),
    ("samples.png", "Random samples: coefficients drawn from a Gaussian fitted to the training coefficients (a VAE's and a VRRAE's from their prior N(0, I)), decoded (signals and vectors overlaid, one colour each)."),
    ("parametric.png", "Test samples predicted from their parameters alone (data with parameters): the latent interpolated between the training samples around them, decoded; truth beside or above the prediction."),
];

/// Writes `dir/report.html` for the run whose checked IR is `ir`.
pub fn write(dir: &Path, ir: &Ir) -> Result<()> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let metrics: Value = serde_json::from_str(&read("metrics.json")).unwrap_or(Value::Null);
    let decisions: Vec<Value> = read("decisions.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let figures = read_figures(dir, FIGURES);
    let page = page(ir, &metrics, &decisions, &figures);
    Ok(write_atomic(&dir.join("report.html"), page.as_bytes())?)
}

/// The page itself (pure: the tests build it from values).
pub fn page(
    ir: &Ir,
    metrics: &Value,
    decisions: &[Value],
    figures: &[(&str, &str, Vec<u8>)],
) -> String {
    let name = esc(&ir.name);
    let mut h = document_start(&format!("rrae run: {}", ir.name));
    let _ = write!(
        h,
        "<h1>{name}</h1>\n<p class=\"lead\">{}</p>\n\
         <nav><a href=\"#figures\">Figures</a> · <a href=\"#metrics\">Metrics</a> · \
         <a href=\"#decisions\">Decisions</a> · <a href=\"#graph\">Graph</a> · \
         <a href=\"#source\">Model file</a></nav>\n",
        esc(&headline(ir, metrics))
    );
    h.push_str(&figures_html(figures));
    // Metrics: the results, then how the run was set up, then its timings; measures
    // this data has none of (a bump fit without bumps, an FID without images) are
    // named once instead of shown as empty rows.
    h.push_str("<section id=\"metrics\">\n<h2>Metrics</h2>\n");
    let mut rows = vec![];
    flatten("", metrics, &mut rows);
    let mut groups: [(&str, Vec<(String, String)>); 3] = [
        ("Results", vec![]),
        ("Settings", vec![]),
        ("Timings", vec![]),
    ];
    let mut absent = vec![];
    for (k, v) in rows {
        if v == "—" {
            absent.push(k.trim_start_matches("metrics.").to_string());
            continue;
        }
        let g = if let Some(m) = k.strip_prefix("metrics.") {
            groups[0].1.push((m.to_string(), v));
            continue;
        } else if k.contains("seconds") || k.contains("ms_per") || k.contains("wall") {
            2
        } else {
            1
        };
        groups[g].1.push((k, v));
    }
    for (title, rows) in &groups {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            h,
            "<h3>{title}</h3>\n<table>\n<tr><th>name</th><th>value</th></tr>"
        );
        for (k, v) in rows {
            let _ = writeln!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
        }
        h.push_str("</table>\n");
    }
    if !absent.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"absent\">Not measured on this data: {}.</p>",
            esc(&absent.join(", "))
        );
    }
    h.push_str("</section>\n");
    // Decisions.
    h.push_str("<section id=\"decisions\">\n<h2>Adaptive-k decisions</h2>\n");
    if decisions.is_empty() {
        h.push_str("<p>No decisions: this run trained at a fixed rank.</p>\n");
    } else {
        h.push_str("<ol class=\"timeline\">\n");
        let line = |d: &Value| {
            let s = |k: &str| d.get(k).map(plain).unwrap_or_default();
            format!(
                "<li><span class=\"when\">step {} · {} · k {}</span> <b>{} {}</b> — {}</li>\n",
                esc(&s("step")),
                esc(&s("phase")),
                esc(&s("k")),
                esc(&s("action")),
                esc(&s("rank")),
                esc(&s("reason"))
            )
        };
        // A schedule's run of like decisions (an anneal's 30 rank steps) as its first,
        // a count, and its last.
        let same = |a: &Value, b: &Value| {
            a.get("action") == b.get("action") && a.get("reason") == b.get("reason")
        };
        let mut i = 0;
        while i < decisions.len() {
            let mut j = i + 1;
            while j < decisions.len() && same(&decisions[i], &decisions[j]) {
                j += 1;
            }
            h.push_str(&line(&decisions[i]));
            if j - i > 3 {
                let _ = writeln!(h, "<li class=\"more\">… {} more like it …</li>", j - i - 2);
                h.push_str(&line(&decisions[j - 1]));
            } else {
                for d in &decisions[i + 1..j] {
                    h.push_str(&line(d));
                }
            }
            i = j;
        }
        h.push_str("</ol>\n");
    }
    h.push_str("</section>\n");
    // The checked graph and the model file.
    let _ = write!(
        h,
        "<section id=\"graph\">\n<h2>Checked graph</h2>\n<p>As <code>rrae check</code> prints it: every layer's output shape and parameter count, the settings in force.</p>\n<pre>{}</pre>\n</section>\n",
        esc(&ir.to_string())
    );
    let source = metrics.get("source").and_then(Value::as_str).unwrap_or("");
    let _ = write!(
        h,
        "<section id=\"source\">\n<h2>Model file</h2>\n<pre>{}</pre>\n</section>\n",
        esc(source)
    );
    h.push_str(DOCUMENT_END);
    h
}

/// A page's head (title, the style) and the opening of its body.
pub(crate) fn document_start(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(title)
    )
}

/// The figures section: each PNG inlined as a data URI, with its caption.
pub(crate) fn figures_html(figures: &[(&str, &str, Vec<u8>)]) -> String {
    let mut h = String::from("<section id=\"figures\">\n<h2>Figures</h2>\n");
    if figures.is_empty() {
        h.push_str("<p>No figures were written.</p>\n");
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    for (file, caption, bytes) in figures {
        let _ = writeln!(
            h,
            "<figure><img src=\"data:image/png;base64,{}\" alt=\"{}\"><figcaption><b>{}</b> — {}</figcaption></figure>",
            b64.encode(bytes),
            esc(file),
            esc(file),
            esc(caption)
        );
    }
    h.push_str("</section>\n");
    h
}

/// The figures of `names` that exist in `dir`, with their captions.
pub(crate) fn read_figures<'a>(
    dir: &Path,
    names: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str, Vec<u8>)> {
    names
        .iter()
        .filter_map(|(name, caption)| Some((*name, *caption, std::fs::read(dir.join(name)).ok()?)))
        .collect()
}

/// One line: parameters, rank, errors, time.
fn headline(ir: &Ir, m: &Value) -> String {
    let num = |path: &[&str]| {
        let mut v = m;
        for p in path {
            v = v.get(*p)?;
        }
        v.as_f64()
    };
    let mut parts = vec![format!(
        "{} parameters",
        rrae_lang::ir::thousands(ir.total_params())
    )];
    parts.push(format!("latent {} ({})", ir.latent.dim, ir.latent.op));
    if let Some(k) = num(&["k"]) {
        parts.push(format!("rank {k}"));
    }
    if let Some(e) = num(&["metrics", "train_error"]) {
        parts.push(format!("train error {e:.2} %"));
    }
    if let Some(e) = num(&["metrics", "test_error"]) {
        parts.push(format!("test error {e:.2} %"));
    }
    if let Some(e) = num(&["metrics", "test_error_parametric"]) {
        parts.push(format!("from parameters {e:.2} %"));
    }
    if let Some(s) = num(&["wall_seconds"]) {
        parts.push(format!("{s:.1} s"));
    }
    parts.join(" · ")
}

/// Scalars of `v` as `(dotted key, text)` rows; long lists shortened, the model file
/// and the decisions left to their own sections.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if prefix.is_empty() && (k == "source" || k == "decisions") {
                    continue;
                }
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let shown: Vec<String> = items.iter().take(8).map(plain).collect();
            let more = if items.len() > 8 {
                format!(" … ({} values)", items.len())
            } else {
                String::new()
            };
            out.push((prefix.to_string(), format!("[{}]{more}", shown.join(", "))));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
        Value::Null => out.push((prefix.to_string(), "—".into())),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push((prefix.to_string(), plain(v)))
        }
    }
}

/// A JSON value as a reader wants it: strings unquoted, floats rounded.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{}", (f * 1e6).round() / 1e6),
            _ => n.to_string(),
        },
        Value::Null => "—".into(),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => v.to_string(),
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{margin-bottom:.2rem}.lead{color:#555;margin-top:0}nav{margin:1rem 0;color:#777}\
figure{display:inline-block;margin:.5rem 1rem 1rem 0;max-width:100%;vertical-align:top}\
figure img{max-width:100%;image-rendering:pixelated;border:1px solid #ddd}\
figcaption{max-width:40rem;font-size:.9rem;color:#444}table{border-collapse:collapse}\
td,th{border:1px solid #ddd;padding:.2rem .6rem;text-align:left;font-size:.9rem}\
pre{background:#f6f6f6;padding:1rem;overflow-x:auto;font-size:.8rem}\
.timeline{font-size:.9rem}.timeline li{margin:.2rem 0}.when{color:#777;font-family:monospace}\
.more{color:#777;list-style:none}.absent{color:#666;font-size:.9rem}h3{margin-bottom:.3rem}";

/// The end of a page: a script that counts the decoded images into `data-images` (for
/// the browser test; no effect on what a reader sees), and the closing tags.
pub(crate) const DOCUMENT_END: &str = "<script>\naddEventListener('load',()=>{const i=[...document.images];\
document.body.dataset.images=i.filter(x=>x.complete&&x.naturalWidth>0).length+'/'+i.length;});\n</script>\n</body>\n</html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn ir() -> Ir {
        let src = "data d = gaussian_bumps(grid = 8, train_per_axis = 3, test = 2)\n\
                   model m { input [1, 8, 8] encoder { flatten linear(4) } latent svd_truncate(k = 2) decoder { linear(64) reshape([1, 8, 8]) } }";
        rrae_lang::check_str("m.rrae", src)
            .result
            .unwrap_or_else(|e| panic!("{e:?}")) // ok: test
    }

    #[test]
    fn the_page_has_every_section_and_escapes_what_it_quotes() {
        let metrics = serde_json::json!({
            "model": "m", "k": 2, "wall_seconds": 1.5, "source": "model <m> & co",
            "metrics": {"train_error": 1.234567891, "test_error": 2.5, "fid_sampling": null, "singular_values_encoder": [1.0, 0.5, 0.25, 0.1, 0.05, 0.01, 0.0, 0.0, 0.0, 0.0]},
            "decisions": [],
        });
        let mut decisions = vec![
            serde_json::json!({"step": 3, "phase": "train", "k": 4, "action": "set_k", "rank": 3, "reason": "a < b"}),
        ];
        // An anneal's ten like decisions: the first, a count, the last.
        decisions.extend((0..10).map(|i| serde_json::json!({"step": 10 + i, "phase": "train", "k": 12 - i, "action": "set_k", "rank": 11 - i, "reason": "annealing"})));
        let figures = vec![("loss.png", "the loss", vec![137u8, 80, 78, 71])];
        let p = page(&ir(), &metrics, &decisions, &figures);
        for id in ["figures", "metrics", "decisions", "graph", "source"] {
            assert!(
                p.contains(&format!("<section id=\"{id}\">")),
                "no {id} section"
            );
        }
        assert!(
            p.contains("data:image/png;base64,iVBORw=="),
            "the figure is not inlined"
        );
        assert!(p.contains("model &lt;m&gt; &amp; co") && p.contains("a &lt; b"));
        let results = p.find("<h3>Results</h3>").unwrap_or(usize::MAX);
        let settings = p.find("<h3>Settings</h3>").unwrap_or(0);
        let timings = p.find("<h3>Timings</h3>").unwrap_or(0);
        assert!(
            results < settings && settings < timings,
            "results, settings, timings"
        );
        let train = p
            .find("<td>train_error</td><td>1.234568</td>")
            .unwrap_or(usize::MAX);
        assert!(results < train && train < settings, "the error is a result");
        assert!(p[timings..].contains("<td>wall_seconds</td>"));
        assert!(p.contains("Not measured on this data: fid_sampling."));
        assert_eq!(p.matches("<li>").count(), 1 + 2, "{p}");
        assert!(p.contains("… 8 more like it …"));
        assert!(p.contains("(10 values)"), "long lists are shortened");
        assert!(p.contains("train error 1.23 %") && p.contains("rank 2"));
        assert!(
            !p.contains("http://") && !p.contains("https://"),
            "the page reaches out"
        );
    }
}
