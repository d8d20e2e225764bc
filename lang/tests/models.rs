//! Snapshots of the AST and the IR of every file in `models/`, and the zoo's
//! one-line-apart property.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rrae"))
        .collect();
    files.sort();
    files
}

fn check(path: &Path) -> rrae_lang::Checked {
    let text = std::fs::read_to_string(path).unwrap();
    let name = format!("models/{}", path.file_name().unwrap().to_string_lossy());
    // The zoo reads no files besides the embedded stdlib, so the working directory
    // does not matter.
    rrae_lang::check_str(&name, &text)
}

#[test]
fn the_zoo_has_all_fourteen_variants() {
    let names: Vec<String> = model_files()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into())
        .collect();
    for want in [
        "long",
        "diabolo",
        "sparse",
        "contractive",
        "irmae",
        "rrae",
        "arrae",
        "weak_rrae",
        "fixed_basis",
        "learned_basis",
        "parsimonious_arrae",
        "vae",
        "vrrae",
        "lorae",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "models/{want}.rrae is missing"
        );
    }
}

#[test]
fn every_model_differs_from_rrae_in_exactly_one_line() {
    let base = std::fs::read_to_string(root().join("models/rrae.rrae")).unwrap();
    let base: Vec<&str> = base.lines().collect();
    for f in model_files() {
        if f.ends_with("rrae.rrae") && f.file_stem().unwrap() == "rrae" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            base.len(),
            "{} has a different number of lines",
            f.display()
        );
        let diff = lines.iter().zip(&base).filter(|(a, b)| a != b).count();
        assert_eq!(
            diff,
            1,
            "{} differs from models/rrae.rrae in {diff} lines",
            f.display()
        );
    }
}

/// The image zoos (`models/mnist/`, `models/fashion_mnist/`): Table 2's five models, the
/// Sparse and Contractive AEs of Table 1 and the authors' VAE, VRRAE and LoRAE, each one
/// line away from its folder's `rrae.rrae`, all checking (shapes only: the checker reads
/// no data) with the latent operator each name promises.
#[test]
fn the_image_zoos_have_ten_models_one_line_apart() {
    use rrae_lang::ir::{LatentOp, Rank};
    use rrae_lang::latent::identity::Identity;
    for (dir, k) in [("mnist", 16), ("fashion_mnist", 23)] {
        let base = std::fs::read_to_string(root().join(format!("models/{dir}/rrae.rrae"))).unwrap();
        let base: Vec<&str> = base.lines().collect();
        for stem in [
            "long",
            "diabolo",
            "irmae",
            "arrae",
            "sparse",
            "contractive",
            "vae",
            "vrrae",
            "lorae",
        ] {
            let path = root().join(format!("models/{dir}/{stem}.rrae"));
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), base.len(), "{}", path.display());
            let diff = lines.iter().zip(&base).filter(|(a, b)| a != b).count();
            assert_eq!(diff, 1, "{} differs in {diff} lines", path.display());
        }
        let ir = |stem: &str| {
            let path = root().join(format!("models/{dir}/{stem}.rrae"));
            let checked = check(&path);
            if let Some(err) = checked.render_error() {
                panic!("{} does not check:\n{err}", path.display());
            }
            checked.result.unwrap()
        };
        assert_eq!(ir("rrae").latent.op, LatentOp::SvdTruncate(Rank::Fixed(k)));
        assert_eq!((ir("rrae").latent.dim, ir("long").latent.dim), (64, 64));
        assert_eq!(ir("long").latent.op, LatentOp::Identity(Identity));
        assert_eq!(ir("diabolo").latent.dim, k);
        assert_eq!(ir("irmae").latent.params, 4 * 64 * 64);
        assert!(matches!(
            ir("arrae").latent.op,
            LatentOp::SvdTruncate(Rank::Adaptive { .. })
        ));
        assert!(matches!(ir("sparse").latent.op, LatentOp::SigmoidSparse(_)));
        assert!(matches!(
            ir("contractive").latent.op,
            LatentOp::Contractive(_)
        ));
        assert!(matches!(ir("vae").latent.op, LatentOp::Vae(_)));
        assert!(
            matches!(&ir("vrrae").latent.op, LatentOp::Vrrae(v) if v.rank == Rank::Fixed(k) && v.width == k)
        );
        assert!(matches!(ir("lorae").latent.op, LatentOp::Lorae(_)));
        assert_eq!(ir("lorae").latent.params, 64 * 64);
    }
}

#[test]
fn every_model_checks_and_its_ast_and_ir_match_the_snapshots() {
    let files = model_files();
    assert!(files.len() >= 11);
    for f in files {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let (_, ast) = rrae_lang::parse(&stem, &text);
        insta::assert_debug_snapshot!(format!("ast_{stem}"), ast.expect("parses"));
        let checked = check(&f);
        if let Some(err) = checked.render_error() {
            panic!("{} does not check:\n{err}", f.display());
        }
        insta::assert_snapshot!(format!("ir_{stem}"), checked.result.unwrap().to_string());
    }
}

#[test]
fn latent_operators_have_the_documented_training_and_inference_forms() {
    use rrae_lang::ir::{Basis, Inference, LatentOp, Rank};
    use rrae_lang::latent::identity::Identity;
    let ir = |stem: &str| {
        check(&root().join(format!("models/{stem}.rrae")))
            .result
            .unwrap()
    };
    assert_eq!(ir("rrae").latent.op, LatentOp::SvdTruncate(Rank::Fixed(2)));
    assert_eq!(
        ir("rrae").latent.op.inference(),
        Inference::Project {
            basis: Basis::Common,
            rank: Some(2)
        }
    );
    assert!(matches!(
        ir("arrae").latent.op,
        LatentOp::SvdTruncate(Rank::Adaptive { patience: 500, .. })
    ));
    assert_eq!(
        ir("arrae").latent.op.inference(),
        Inference::Project {
            basis: Basis::Common,
            rank: None
        }
    );
    // A Diabolo AE: L = k = 2, so the truncation keeps everything and lowers to identity.
    let d = ir("diabolo");
    assert_eq!(
        (d.latent.dim, &d.latent.op),
        (2, &LatentOp::Identity(Identity))
    );
    assert_eq!(ir("long").latent.op.inference(), Inference::Identity);
    assert_eq!(ir("sparse").latent.op.inference(), Inference::Sigmoid);
    assert_eq!(ir("irmae").latent.params, 4 * 64 * 64);
    assert_eq!(ir("learned_basis").latent.params, 64 * 2);
    // The variational family samples its prior; the VRRAE projects as the RRAE does.
    assert_eq!(
        ir("vae").latent.op.inference(),
        Inference::Variational {
            basis: None,
            rank: None,
            mapped: true
        }
    );
    assert_eq!(ir("vae").latent.params, 2 * 64 * 65);
    assert_eq!(
        ir("vrrae").latent.op.inference(),
        Inference::Variational {
            basis: Some(Basis::Common),
            rank: Some(2),
            mapped: false
        }
    );
    assert_eq!(ir("vrrae").latent.params, 2 * 3);
    assert!(ir("vae").latent.op.prior() && ir("vrrae").latent.op.prior());
    assert!(!ir("rrae").latent.op.prior() && !ir("lorae").latent.op.prior());
    assert_eq!(
        ir("lorae").latent.op.inference(),
        Inference::LinearStack { l: 1 }
    );
}

#[test]
fn the_language_reference_documents_every_builtin() {
    let doc = std::fs::read_to_string(root().join("docs/language.md")).unwrap();
    use rrae_lang::catalog::*;
    for spec in LAYERS
        .iter()
        .chain(LATENT_OPS)
        .chain(DATA_SOURCES)
        .chain([&TRAIN, &EVAL])
    {
        assert!(
            doc.contains(&format!("`{}`", spec.name)),
            "docs/language.md does not mention `{}`",
            spec.name
        );
        for p in spec.params {
            assert!(
                doc.contains(&format!("`{}`", p.name)),
                "docs/language.md does not mention `{}` of `{}`",
                p.name,
                spec.name
            );
        }
    }
    for (name, _) in rrae_lang::eval::BUILTINS {
        assert!(
            doc.contains(&format!("`{name}(")),
            "docs/language.md does not mention builtin `{name}`"
        );
    }
}

#[test]
fn one_dimensional_convolutions_infer_curve_shapes() {
    let src = "model curves {
    input [1, 100]
    encoder { conv1d(8, 5, stride = 2) relu flatten linear(16) }
    latent svd_truncate(k = 3)
    decoder {
        linear(8 * 48)
        reshape([8, 48])
        conv_transpose1d(4, 5, stride = 2, output_padding = 1)
        relu
        conv1d(1, 1)
    }
}
";
    let ir = rrae_lang::check_with("curves.rrae", src, &rrae_lang::MemLoader::default())
        .result
        .unwrap();
    let shapes: Vec<String> = ir
        .encoder
        .iter()
        .chain(&ir.decoder)
        .map(|n| n.output.to_string())
        .collect();
    // (100 − 5)//2 + 1 = 48; (48 − 1)·2 + 5 + 1 = 100.
    assert_eq!(
        shapes,
        [
            "[8, 48]", "[8, 48]", "[384]", "[16]", "[384]", "[8, 48]", "[4, 100]", "[4, 100]",
            "[1, 100]"
        ]
    );
    assert_eq!(ir.encoder[0].params, 8 * 5 + 8);
    assert_eq!(ir.decoder[2].params, 8 * 4 * 5 + 4);
}

/// A `.npy` file of float32 zeros with the given shape.
fn write_npy(path: &Path, shape: &[usize]) {
    write_npy_values(path, shape, &vec![0.0; shape.iter().product()]);
}

/// A float32 `.npy` of `shape` holding `values`.
fn write_npy_values(path: &Path, shape: &[usize], values: &[f32]) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let dict = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    let mut header = dict.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header);
    bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn project_reads_its_basis_header_relative_to_the_model_file() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rrae-project-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_npy(&dir.join("u.npy"), &[16, 3]);
    let model = |latent: &str| {
        format!("model p {{\n    input [1, 8, 8]\n    encoder {{ flatten linear(16) }}\n    latent {latent}\n    decoder {{ linear(64) reshape([1, 8, 8]) }}\n}}\n")
    };
    let name = dir.join("m.rrae").to_string_lossy().to_string();
    let ok = rrae_lang::check_str(&name, &model("project(basis = \"u.npy\")"));
    let ir = ok.result.unwrap();
    assert!(matches!(
        ir.latent.op,
        rrae_lang::ir::LatentOp::Project(rrae_lang::latent::project::Project { columns: 3, .. })
    ));
    let k2 = rrae_lang::check_str(&name, &model("project(\"u.npy\", k = 2)"))
        .result
        .unwrap();
    assert!(matches!(
        k2.latent.op,
        rrae_lang::ir::LatentOp::Project(rrae_lang::latent::project::Project { columns: 2, .. })
    ));
    // A basis for another latent length, a rank beyond its columns, and a missing file.
    write_npy(&dir.join("wrong.npy"), &[32, 3]);
    assert_eq!(
        rrae_lang::check_str(&name, &model("project(basis = \"wrong.npy\")"))
            .result
            .unwrap_err()
            .code(),
        "E022"
    );
    assert_eq!(
        rrae_lang::check_str(&name, &model("project(basis = \"u.npy\", k = 4)"))
            .result
            .unwrap_err()
            .code(),
        "E034"
    );
    assert_eq!(
        rrae_lang::check_str(&name, &model("project(basis = \"nope.npy\")"))
            .result
            .unwrap_err()
            .code(),
        "E039"
    );
    // A truncated file is caught from its header.
    let bytes = std::fs::read(dir.join("u.npy")).unwrap();
    std::fs::write(dir.join("cut.npy"), &bytes[..bytes.len() - 8]).unwrap();
    let cut = rrae_lang::check_str(&name, &model("project(basis = \"cut.npy\")"));
    assert_eq!(cut.result.as_ref().unwrap_err().code(), "E039");
    assert!(cut.render_error().unwrap().contains("truncated"));
}

#[test]
fn idx_data_is_shape_checked_from_its_header() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rrae-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut idx = vec![0u8, 0, 8, 3];
    for d in [5u32, 8, 8] {
        idx.extend(d.to_be_bytes());
    }
    idx.extend(vec![0u8; 5 * 64]);
    std::fs::write(dir.join("imgs.idx"), &idx).unwrap();
    let name = dir.join("m.rrae").to_string_lossy().to_string();
    let src = |input: &str| {
        format!("data d = idx(\"imgs.idx\")\nmodel m {{\n    input {input}\n    encoder {{ flatten linear(16) }}\n    latent identity\n    decoder {{ linear(64) reshape({input}) }}\n}}\n")
    };
    let ir = rrae_lang::check_str(&name, &src("[1, 8, 8]"))
        .result
        .unwrap();
    let d = ir.data.unwrap();
    assert_eq!(
        (d.sample.to_string(), d.train_count),
        ("[1, 8, 8]".to_string(), 5)
    );
    assert_eq!(
        rrae_lang::check_str(&name, &src("[1, 4, 16]"))
            .result
            .unwrap_err()
            .code(),
        "E037"
    );
    std::fs::write(dir.join("imgs.idx"), &idx[..100]).unwrap();
    assert_eq!(
        rrae_lang::check_str(&name, &src("[1, 8, 8]"))
            .result
            .unwrap_err()
            .code(),
        "E039"
    );
}

/// `svd_truncate(k, anneal = N)`: a fixed rank reached by annealing, shown in the IR;
/// refused with the adaptive search and beyond the training steps.
#[test]
fn an_annealed_rank_is_checked_and_shown() {
    use rrae_lang::ir::{Basis, Inference, LatentOp, Rank};
    let with = |latent: &str| with_latent("models/annealed.rrae", latent);
    let ok = with("svd_truncate(k = 2, anneal = 500)").result.unwrap();
    assert_eq!(
        ok.latent.op,
        LatentOp::SvdTruncate(Rank::Annealed { k: 2, steps: 500 })
    );
    assert_eq!(
        ok.latent.op.inference(),
        Inference::Project {
            basis: Basis::Common,
            rank: Some(2)
        }
    );
    assert!(ok.to_string().contains("svd_truncate(k=2, anneal=500) %"));
    assert_refused(
        "models/annealed.rrae",
        &[
            (
                "svd_truncate(k = adaptive, anneal = 500)",
                "E038",
                "the adaptive search lowers k itself",
            ),
            (
                "svd_truncate(k = 2, anneal = 0)",
                "E022",
                "over 1 to 2000 steps",
            ),
            (
                "svd_truncate(k = 2, anneal = 2001)",
                "E022",
                "over 1 to 2000 steps",
            ),
        ],
    );
}

/// `svd_truncate(k, descend = true)`: a fixed rank reached by Algorithm 1's descent,
/// shown in the IR; refused with `anneal` and with the adaptive search.
#[test]
fn a_descended_rank_is_checked_and_shown() {
    use rrae_lang::ir::{Basis, Inference, LatentOp, Rank};
    let with = |latent: &str| with_latent("models/descended.rrae", latent);
    let ok = with("svd_truncate(k = 2, descend = true)").result.unwrap();
    assert_eq!(
        ok.latent.op,
        LatentOp::SvdTruncate(Rank::Descended { k: 2 })
    );
    assert_eq!(
        ok.latent.op.inference(),
        Inference::Project {
            basis: Basis::Common,
            rank: Some(2)
        }
    );
    assert!(ok.to_string().contains("svd_truncate(k=2, descend=true) %"));
    // `descend = false` is k from the first step.
    let off = with("svd_truncate(k = 2, descend = false)").result.unwrap();
    assert_eq!(off.latent.op, LatentOp::SvdTruncate(Rank::Fixed(2)));
    assert_refused(
        "models/descended.rrae",
        &[
            (
                "svd_truncate(k = adaptive, descend = true)",
                "E038",
                "the adaptive search lowers k itself",
            ),
            (
                "svd_truncate(k = 2, anneal = 500, descend = true)",
                "E038",
                "either annealed on a schedule (`anneal`) or descended (`descend`), not both",
            ),
        ],
    );
}

/// `models/rrae.rrae` with its latent line replaced, checked as `name`.
fn with_latent(name: &str, latent: &str) -> rrae_lang::Checked {
    let src = std::fs::read_to_string(root().join("models/rrae.rrae")).unwrap();
    let s = src.replace("svd_truncate(k = 2)", latent);
    assert_ne!(s, src);
    rrae_lang::check_str(name, &s)
}

/// Random samples come from the prior where the latent has one, and `sample_prior =
/// false` in the eval block gives a VAE or a VRRAE the fitted Gaussian instead; the IR
/// says which. An RRAE has no prior to sample: asking for it is refused (E038), not ignored.
#[test]
fn random_samples_come_from_the_prior_only_where_the_latent_has_one() {
    let eval = |latent: &str, line: &str| {
        let src = std::fs::read_to_string(root().join("models/rrae.rrae")).unwrap();
        let s = src.replace("svd_truncate(k = 2)", latent).replace(
            "random_samples = 250",
            &format!("random_samples = 250\n    {line}"),
        );
        rrae_lang::check_str("s.rrae", &s)
    };
    let ir = |latent: &str, line: &str| eval(latent, line).result.unwrap();
    for (latent, prior) in [
        ("vae(beta = 0.001)", true),
        ("vrrae(k = 2, beta = 0.001)", true),
        ("svd_truncate(k = 2)", false),
        ("lorae(lambda = 0.001)", false),
    ] {
        let got = ir(latent, "");
        assert_eq!(got.eval.sample_prior, prior, "{latent}");
        assert_eq!(
            got.to_string().contains(", sample_prior"),
            prior,
            "{latent}"
        );
    }
    for latent in ["vae(beta = 0.001)", "vrrae(k = 2, beta = 0.001)"] {
        let fitted = ir(latent, "sample_prior = false");
        assert!(!fitted.eval.sample_prior, "{latent}");
        assert_eq!(
            fitted.eval.sampled_from(),
            "N(mean, cov) of the training coefficients"
        );
        assert_eq!(
            ir(latent, "sample_prior = true").eval.sampled_from(),
            "the prior N(0, I)"
        );
    }
    // Off is every other latent's default, so saying it is allowed; on is refused.
    assert!(
        !ir("svd_truncate(k = 2)", "sample_prior = false")
            .eval
            .sample_prior
    );
    let refused = eval("svd_truncate(k = 2)", "sample_prior = true");
    assert_eq!(
        refused.result.as_ref().err().map(|e| e.code()),
        Some("E038")
    );
    let text = refused.render_error().unwrap();
    assert!(text.contains("only a latent with a prior"), "{text}");
}

/// Each `(latent line, code, words)` is refused with that code, and its rendered error
/// says those words and names the file.
fn assert_refused(name: &str, cases: &[(&str, &str, &str)]) {
    for (latent, code, says) in cases {
        let out = with_latent(name, latent);
        let err = out.result.as_ref().err().map(|e| e.code());
        assert_eq!(err, Some(*code), "{latent}");
        let text = out.render_error().unwrap();
        assert!(text.contains(says), "{latent}: {text}");
        assert!(text.contains(&format!("{name}:")), "{text}");
    }
}

/// `search = trend`: Algorithm 1 with a trend test whose horizon defaults to
/// 5 · patience and is shown in the IR; `horizon` belongs to that search alone.
#[test]
fn the_trend_search_has_a_horizon_and_no_other_search_does() {
    use rrae_lang::ir::{LatentOp, Rank, Search};
    let with = |latent: &str| with_latent("models/trend.rrae", latent);
    let search = |latent: &str| match with(latent).result.unwrap().latent.op {
        LatentOp::SvdTruncate(Rank::Adaptive {
            search, horizon, ..
        }) => (search, horizon),
        op => panic!("{latent} lowered to {op}"),
    };
    assert_eq!(
        search("svd_truncate(k = adaptive, search = trend)"),
        (Search::Trend, Some(2500))
    );
    assert_eq!(
        search("svd_truncate(k = adaptive, search = trend, patience = 40)"),
        (Search::Trend, Some(200))
    );
    assert_eq!(
        search("svd_truncate(k = adaptive, search = trend, horizon = 900)"),
        (Search::Trend, Some(900))
    );
    let ir = with("svd_truncate(k = adaptive, search = trend)")
        .result
        .unwrap();
    assert!(
        ir.to_string()
            .contains("svd_truncate(k=adaptive, search=trend, horizon=2500, patience=500,"),
        "{ir}"
    );
    assert_refused(
        "models/trend.rrae",
        &[
            (
                "svd_truncate(k = adaptive, horizon = 900)",
                "E038",
                "only the trend search (`search = trend`) has a horizon",
            ),
            (
                "svd_truncate(k = adaptive, search = bisect, horizon = 900)",
                "E038",
                "only the trend search",
            ),
            (
                "svd_truncate(k = 2, horizon = 900)",
                "E038",
                "only the adaptive search (`k = adaptive`) uses it",
            ),
            (
                "svd_truncate(k = adaptive, search = trend, horizon = 0)",
                "E022",
                "horizon",
            ),
        ],
    );
}

/// The stdlib's `paper_encoder` / `paper_decoder` are the paper's Appendix C network:
/// encoder widths 32, 64; a decoder from 300 channels at 4×4 through transposed
/// convolutions of 256, 128, 32 and 8 channels; 5,286,329 parameters with L = 200 on
/// 64×64 inputs. (`cnn_encoder` / `cnn_decoder` keep the authors' library widths.)
#[test]
fn the_paper_blocks_are_the_appendix_c_network() {
    use rrae_lang::ir::Op;
    let src = "use cnn
model p {
    input [1, 64, 64]
    encoder { paper_encoder(latent = 200) }
    latent svd_truncate(k = 2)
    decoder { paper_decoder(out = [1, 64, 64]) }
}";
    let ir = rrae_lang::check_str("p.rrae", src)
        .result
        .unwrap_or_else(|e| panic!("{e:?}")); // ok: test
    let widths = |nodes: &[rrae_lang::ir::Node], transposed: bool| -> Vec<usize> {
        nodes
            .iter()
            .filter_map(|n| match (&n.op, transposed) {
                (Op::Conv(c), false) => Some(c.out_channels),
                (Op::ConvTranspose(c), true) => Some(c.0.out_channels),
                _ => None,
            })
            .collect()
    };
    assert_eq!(widths(&ir.encoder, false), [32, 64]);
    assert_eq!(widths(&ir.decoder, true), [256, 128, 32, 8]);
    assert!(ir.decoder.iter().any(|n| n.op
        == Op::Reshape(rrae_lang::layer::reshape::Reshape(rrae_lang::shape::Shape(
            vec![300, 4, 4]
        )))));
    assert_eq!(ir.encoder_params() + ir.decoder_params(), 5_286_329);
}

/// `params_train` / `params_test` are checked from their headers: one row per sample,
/// the same parameter count on both sides, and given exactly when they can be used.
#[test]
fn parameter_files_are_checked_against_their_data_files() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rrae-params-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_npy(&dir.join("x.npy"), &[12, 1, 20]);
    write_npy(&dir.join("xt.npy"), &[5, 1, 20]);
    // Parameters the runtime would take: a 4 × 3 grid, test rows inside it; one
    // parameter whose split tail (the last 2 of 12) lies inside the first 10.
    let grid: Vec<f32> = (0..12)
        .flat_map(|i| [(i % 4) as f32, (i / 4) as f32])
        .collect();
    write_npy_values(&dir.join("p.npy"), &[12, 2], &grid);
    write_npy_values(
        &dir.join("pt.npy"),
        &[5, 2],
        &[0.5, 0.5, 1.0, 1.5, 2.5, 0.2, 3.0, 2.0, 0.0, 0.0],
    );
    let one: Vec<f32> = (0..12)
        .map(|i| {
            if i % 2 == 0 {
                (i / 2) as f32
            } else {
                (11 - i / 2) as f32
            }
        })
        .collect();
    write_npy_values(&dir.join("p1.npy"), &[12], &one);
    write_npy_values(&dir.join("pt1.npy"), &[5], &[0.5, 1.0, 2.0, 3.0, 4.0]);
    write_npy(&dir.join("p_short.npy"), &[11, 2]);
    write_npy(&dir.join("p_3d.npy"), &[12, 2, 2]);
    let name = dir.join("m.rrae").to_string_lossy().to_string();
    let check = |args: &str| {
        let src = format!(
            "data d = npy(train = \"x.npy\"{args})\nmodel m {{\n    input [1, 20]\n    encoder {{ flatten linear(8) }}\n    latent svd_truncate(k = 2)\n    decoder {{ linear(20) reshape([1, 20]) }}\n}}\n"
        );
        rrae_lang::check_str(&name, &src)
    };
    let both = check(", test = \"xt.npy\", params_train = \"p.npy\", params_test = \"pt.npy\"");
    let ir = both.result.unwrap();
    let p = ir.data.as_ref().unwrap().params.as_ref().unwrap();
    assert_eq!((p.dim, p.test.is_some()), (2, true));
    assert!(ir.to_string().contains("  params 2: train="), "{ir}");
    // One parameter as an [N] array; a split of the training file needs no test file.
    let split = check(", params_train = \"p1.npy\"").result.unwrap();
    assert_eq!(split.data.unwrap().params.unwrap().dim, 1);
    let code = |args: &str| {
        let c = check(args);
        let e = c.result.as_ref().unwrap_err().code();
        (e, c.render_error().unwrap())
    };
    let (e, msg) = code(", params_train = \"p_short.npy\"");
    assert_eq!(e, "E039");
    assert!(
        msg.contains("11 parameter rows for the 12 samples"),
        "{msg}"
    );
    let (e, msg) = code(", params_train = \"p_3d.npy\"");
    assert_eq!(e, "E039");
    assert!(msg.contains("[N] or [N, P]"), "{msg}");
    let (e, msg) = code(", test = \"xt.npy\", params_train = \"p.npy\", params_test = \"pt1.npy\"");
    assert_eq!(e, "E039");
    assert!(
        msg.contains("1 parameters per sample, `params_train` has 2"),
        "{msg}"
    );
    let (e, msg) = code(", params_test = \"pt.npy\", test = \"xt.npy\"");
    assert_eq!(e, "E038");
    assert!(msg.contains("give `params_train` too"), "{msg}");
    let (e, msg) = code(", test = \"xt.npy\", params_train = \"p.npy\"");
    assert_eq!(e, "E038");
    assert!(
        msg.contains("give its parameters as `params_test`"),
        "{msg}"
    );
    let (e, msg) = code(", params_train = \"p.npy\", params_test = \"pt.npy\"");
    assert_eq!(e, "E038");
    assert!(msg.contains("without a `test` file"), "{msg}");
    let (e, _) = code(", params_train = \"missing.npy\"");
    assert_eq!(e, "E039");
}

/// `vrrae(…, mean = trainable)` is the library's `typ = "trainable"`: a second k → k map
/// (the mean's) and the L × L inference layer it is folded into; the IR line names it and
/// the default (`eye`) keeps the line, the parameters and the inference form unchanged.
#[test]
fn a_vrrae_with_a_trainable_mean_has_the_mean_map_and_its_folded_layer() {
    use rrae_lang::ir::{Basis, Inference};
    let ir = |latent: &str| with_latent("vrrae_mean", latent).result.unwrap();
    let eye = ir("vrrae(k = 2, beta = 0.001)");
    assert_eq!(
        ir("vrrae(k = 2, beta = 0.001, mean = eye)").latent.op,
        eye.latent.op
    );
    let mapped = ir("vrrae(k = 2, beta = 0.001, mean = trainable)");
    assert_eq!(mapped.latent.params, 2 * 2 * 3 + 64 * 65);
    assert_eq!(eye.latent.params, 2 * 3);
    assert_eq!(
        mapped.latent.op.to_string(),
        "vrrae(k=2, beta=0.001, mean=trainable)"
    );
    assert_eq!(eye.latent.op.to_string(), "vrrae(k=2, beta=0.001)");
    assert_eq!(
        mapped.latent.op.inference(),
        Inference::Variational {
            basis: Some(Basis::Common),
            rank: Some(2),
            mapped: true
        }
    );
    let shown = mapped.latent.op.inference().to_string();
    assert!(shown.contains("latent.mean(U_fᵀ y)"), "{shown}");
    assert_refused(
        "vrrae_mean",
        &[("vrrae(k = 2, mean = linear)", "E022", "trainable")],
    );
}
