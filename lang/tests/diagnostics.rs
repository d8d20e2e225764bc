//! One mistake per error kind: each must produce its code, and its rendered diagnostic
//! must match the snapshot. The same table generates `docs/errors.md`
//! (`RRAE_BLESS=1 cargo test -p rrae-lang --test diagnostics` rewrites it).

use rrae_lang::MemLoader;

/// A valid model the cases below break in one place.
const OK: &str = "model m {
    input [1, 8, 8]
    encoder { flatten linear(16) }
    latent svd_truncate(k = 2)
    decoder { linear(64) reshape([1, 8, 8]) }
}
";

struct Case {
    code: &'static str,
    name: &'static str,
    /// Files the case imports: (path, text).
    files: &'static [(&'static str, &'static str)],
    src: String,
    /// Command-line `--set` assignments applied to `src` first.
    set: &'static [&'static str],
}

fn with(from: &str, to: &str) -> String {
    assert!(OK.contains(from), "{from}");
    OK.replace(from, to)
}

fn cases() -> Vec<Case> {
    let c = |code, name, src: String| Case {
        code,
        name,
        files: &[],
        src,
        set: &[],
    };
    let set = |code, name, set: &'static [&'static str]| Case {
        code,
        name,
        files: &[],
        src: OK.to_string(),
        set,
    };
    let deep = format!("let x = {}1{}\n{OK}", "(".repeat(70), ")".repeat(70));
    vec![
        c("E001", "syntax error", "model m {\n    input [1, 8, 8\n    encoder { flatten }\n}\n".into()),
        c("E002", "unterminated string", format!("data d = idx(train = \"mnist.gz)\n{OK}")),
        c("E003", "invalid number", format!("let lr = 1e\n{OK}")),
        c("E004", "unclosed delimiter", "block b(x: int) {\n    relu\n".into()),
        c("E005", "unknown item", "modle m {\n}\n".into()),
        c("E006", "nesting too deep", deep),
        c("E010", "unknown layer", with("linear(16)", "linaer(16)")),
        c("E011", "unknown name", format!("let width = 16\n{}", with("linear(16)", "linear(widht)"))),
        c("E012", "unknown latent operator", with("svd_truncate(k = 2)", "svd_trunc(k = 2)")),
        c("E013", "unknown option", with("linear(16)", "linear(16, biass = false)")),
        c("E014", "missing argument", with("linear(16)", "linear()")),
        c("E015", "too many arguments", with("linear(16)", "linear(16, true)")),
        c("E016", "argument given twice", with("linear(16)", "linear(16, out = 32)")),
        c("E017", "wrong argument type", with("linear(16)", "linear(16.5)")),
        c("E018", "duplicate definition", format!("block head() {{ flatten }}\nblock head() {{ relu }}\n{OK}")),
        c("E019", "import not found", format!("use cnnn\n{OK}")),
        Case { code: "E020", name: "import cycle", files: &[("b.rrae", "use \"case.rrae\"\nblock b() { relu }\n")], src: format!("use \"b.rrae\"\n{OK}"), set: &[] },
        c("E021", "recursive block", format!("block b(x: int) {{\n    relu\n    b(x)\n}}\n{}", with("flatten linear(16)", "flatten linear(16) b(1)"))),
        c("E022", "invalid value", with("flatten linear(16)", "conv2d(8, 3, stride = 0) flatten linear(16)")),
        c("E023", "unknown setting", format!("{OK}train {{ step = 10 }}\n")),
        c("E024", "no model", "block b() { relu }\n".into()),
        c("E025", "missing section", "model m {\n    input [4]\n    encoder { linear(8) }\n    latent identity\n}\n".into()),
        c("E026", "unknown data set", format!("data mnist = gaussian_bumps(grid = 8)\n{OK}train {{ data = mnst }}\n")),
        c("E027", "latent operator in a layer sequence", with("flatten linear(16)", "flatten linear(16) svd_truncate(2)")),
        c("E028", "evaluation error", format!("let d = 3 // 0\n{OK}")),
        c("E029", "unknown data source", format!("data d = bumps(grid = 8)\n{OK}")),
        c("E030", "kernel larger than its input", with("flatten linear(16)", "conv2d(4, 3, stride = 2) conv2d(8, 7) flatten linear(16)")),
        c("E031", "layer on a tensor of the wrong rank", with("flatten linear(16)", "flatten conv2d(8, 3) linear(16)")),
        c("E032", "reshape to the wrong size", with("reshape([1, 8, 8])", "reshape([3, 5, 5])")),
        c("E033", "decoder output differs from the input", "use cnn\n\nmodel m {\n    input [1, 28, 28]\n    encoder { cnn_encoder(latent = 32) }\n    latent svd_truncate(k = 4)\n    decoder {\n        linear(32 * 7 * 7)\n        reshape([32, 7, 7])\n        conv_transpose2d(16, 3, stride = 2, padding = 1, output_padding = 1)\n        relu\n        conv_transpose2d(8, 3, stride = 2, padding = 1, output_padding = 1)\n        relu\n        conv2d(1, 3, padding = 2)\n    }\n}\n".into()),
        c("E034", "rank larger than min(L, batch)", with("svd_truncate(k = 2)", "svd_truncate(k = 80)")),
        c("E035", "encoder does not end in a vector", with("encoder { flatten linear(16) }", "encoder { conv2d(4, 3) }")),
        c("E036", "output_padding too large", with("linear(64) reshape([1, 8, 8])", "linear(16) reshape([1, 4, 4]) conv_transpose2d(1, 3, stride = 2, padding = 1, output_padding = 2)")),
        c("E037", "data shape differs from the model input", format!("data bumps = gaussian_bumps(grid = 64)\n{OK}")),
        c("E038", "option of another mode", with("svd_truncate(k = 2)", "svd_truncate(k = 2, patience = 100)")),
        c("E039", "unreadable data file", format!("data d = idx(train = \"missing-images.gz\")\n{OK}")),
        c("E040", "size too large", with("linear(16)", "linear(1000000000000)")),
        c("E041", "contractive penalty without a linear last layer", with("encoder { flatten linear(16) }", "encoder { flatten linear(16) relu }").replace("svd_truncate(k = 2)", "contractive(beta = 0.1)")),
        c("E042", "empty data set", format!("data d = npy(train = \"tests/data/one-sample.npy\")\n{OK}")),
        set("E043", "a --set value that is not a value", &["latent.k=3", "train.lr=(3e-4"]),
        set("E044", "a --set path the file has no place for", &["L=32"]),
    ]
}

fn run(case: &Case) -> (Option<&'static str>, String) {
    if !case.set.is_empty() {
        let sets: Vec<rrae_lang::set::Assignment> =
            case.set.iter().map(|a| a.parse().unwrap()).collect();
        if let Err(e) = rrae_lang::set::apply("case.rrae", &case.src, &sets) {
            return (Some(e.error.code()), e.render());
        }
    }
    let mut loader = MemLoader::default();
    for (p, t) in case.files {
        loader = loader.with(*p, *t);
    }
    let out = rrae_lang::check_with("case.rrae", &case.src, &loader);
    match &out.result {
        Ok(_) => (None, String::new()),
        Err(e) => (Some(e.code()), out.render_error().unwrap()),
    }
}

#[test]
fn the_base_model_is_valid() {
    let out = rrae_lang::check_with("ok.rrae", OK, &MemLoader::default());
    assert!(out.result.is_ok(), "{:?}", out.render_error());
}

#[test]
fn every_error_kind_has_a_case_and_renders_like_its_snapshot() {
    let cases = cases();
    assert!(cases.len() >= 25);
    let mut codes: Vec<&str> = cases.iter().map(|c| c.code).collect();
    codes.dedup();
    assert_eq!(codes.len(), cases.len(), "one case per code");
    for case in &cases {
        let (code, rendered) = run(case);
        assert_eq!(
            code,
            Some(case.code),
            "case {} ({}):\n{}\n{rendered}",
            case.code,
            case.name,
            case.src
        );
        assert!(rendered.contains(&format!("error[{}]", case.code)));
        assert!(
            rendered.contains("case.rrae:") || case.code == "E020" || !case.set.is_empty(),
            "names file:line:col:\n{rendered}"
        );
        insta::assert_snapshot!(
            format!("{}_{}", case.code, case.name.replace(' ', "_")),
            rendered
        );
    }
}

#[test]
fn the_30x30_decoder_is_reported_at_its_layer_with_the_kernel_fix() {
    let case = cases().into_iter().find(|c| c.code == "E033").unwrap();
    let (_, rendered) = run(&case);
    assert!(
        rendered.contains("the decoder produces [1, 30, 30] but the input is [1, 28, 28]"),
        "{rendered}"
    );
    assert!(
        rendered.contains("--> case.rrae:14:9"),
        "points at the final conv2d:\n{rendered}"
    );
    assert!(rendered.contains("use kernel = 5"), "{rendered}");
    // And the fix works.
    let fixed = case
        .src
        .replace("conv2d(1, 3, padding = 2)", "conv2d(1, 5, padding = 2)");
    let out = rrae_lang::check_with("case.rrae", &fixed, &MemLoader::default());
    assert!(out.result.is_ok(), "{:?}", out.render_error());
}

fn catalogue() -> String {
    let mut s = String::from(
        "# Error catalogue\n\nEvery error `rrae check` can report, with a snippet that triggers it and what it prints.\n\
         This file is generated by `lang/tests/diagnostics.rs` (`RRAE_BLESS=1 cargo test -p rrae-lang --test diagnostics`);\n\
         the test fails when it is out of date.\n",
    );
    for case in cases() {
        let (_, rendered) = run(&case);
        s.push_str(&format!("\n## {} — {}\n\n", case.code, case.name));
        for (p, t) in case.files {
            s.push_str(&format!("`{p}`:\n\n```rrae\n{t}```\n\n"));
        }
        let with = case
            .set
            .iter()
            .map(|a| format!(" `--set {a}`"))
            .collect::<String>();
        let with = if with.is_empty() {
            String::new()
        } else {
            format!(", checked with{with}")
        };
        s.push_str(&format!(
            "`case.rrae`{with}:\n\n```rrae\n{}```\n\n```text\n{rendered}```\n",
            case.src
        ));
    }
    s
}

#[test]
fn the_error_catalogue_in_docs_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/errors.md");
    let want = catalogue();
    if std::env::var_os("RRAE_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "docs/errors.md is out of date: run RRAE_BLESS=1 cargo test -p rrae-lang --test diagnostics");
}

/// The variational family's mistakes, caught before any data loads: a negative KL weight
/// or nuclear-norm weight, a VRRAE rank past min(L, batch), and an adaptive-only option
/// on a fixed variational rank (the VRRAE takes its rank as `svd_truncate` does).
#[test]
fn the_variational_operators_report_their_mistakes_like_their_snapshots() {
    for (name, latent, code) in [
        ("vae_negative_beta", "vae(beta = -1)", "E022"),
        (
            "vrrae_rank_too_large",
            "vrrae(k = 80, beta = 0.001)",
            "E034",
        ),
        ("vrrae_negative_beta", "vrrae(k = 2, beta = -0.5)", "E022"),
        (
            "vrrae_adaptive_option_on_a_fixed_rank",
            "vrrae(k = 2, patience = 10)",
            "E038",
        ),
        ("lorae_negative_lambda", "lorae(lambda = -0.001)", "E022"),
    ] {
        let case = Case {
            code,
            name,
            files: &[],
            src: with("svd_truncate(k = 2)", latent),
            set: &[],
        };
        let (got, rendered) = run(&case);
        assert_eq!(got, Some(code), "{name}:\n{rendered}");
        insta::assert_snapshot!(format!("variational_{name}"), rendered);
    }
    // Sampling the prior of a latent that has none.
    let case = Case {
        code: "E038",
        name: "sample_prior_without_a_prior",
        files: &[],
        src: format!("{OK}\neval {{\n    sample_prior = true\n}}\n"),
        set: &[],
    };
    let (got, rendered) = run(&case);
    assert_eq!(got, Some("E038"), "{rendered}");
    insta::assert_snapshot!("variational_sample_prior_without_a_prior", rendered);
}
