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
fn the_zoo_has_all_eleven_variants() {
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
    assert_eq!((d.latent.dim, &d.latent.op), (2, &LatentOp::Identity));
    assert_eq!(ir("long").latent.op.inference(), Inference::Identity);
    assert_eq!(ir("sparse").latent.op.inference(), Inference::Sigmoid);
    assert_eq!(ir("irmae").latent.params, 4 * 64 * 64);
    assert_eq!(ir("learned_basis").latent.params, 64 * 2);
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
