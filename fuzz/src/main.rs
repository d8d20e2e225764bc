//! `cargo run --release -p rrae-fuzz -- seed` writes the seed corpus;
//! `cargo run --release -p rrae-fuzz -- TARGET EXECUTIONS [SEED]` runs a campaign and
//! prints its figures; a panicking input is saved under `fuzz/crashes/` to replay.

use rrae_fuzz::{corpus, mutate, Rng, Target, TARGETS};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("seed") => match seed() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Some(name) => {
            let (Some(target), Some(execs)) = (
                Target::parse(name),
                args.get(1).and_then(|n| n.parse::<u64>().ok()),
            ) else {
                return usage();
            };
            let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
            campaign(target, execs, seed)
        }
        None => usage(),
    }
}

fn usage() -> ExitCode {
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name()).collect();
    eprintln!(
        "usage: rrae-fuzz seed | rrae-fuzz {} EXECUTIONS [SEED]",
        names.join("|")
    );
    ExitCode::from(2)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn campaign(target: Target, execs: u64, seed: u64) -> ExitCode {
    let corpus = corpus(target);
    if corpus.is_empty() {
        eprintln!(
            "error: no corpus for {}: run `rrae-fuzz seed` first",
            target.name()
        );
        return ExitCode::from(1);
    }
    let scratch = std::env::temp_dir().join(format!(
        "rrae-fuzz-{}-{}",
        target.name(),
        std::process::id()
    ));
    // Panics are counted and saved, not printed a million times.
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    // Text targets get the language's tokens and numbers as text.
    let text = matches!(target, Target::Check | Target::Lsp);
    let (t0, mut crashes) = (Instant::now(), 0u64);
    for i in 0..execs {
        let base = &corpus[rng.below(corpus.len())].1;
        let other = &corpus[rng.below(corpus.len())].1;
        let input = mutate(&mut rng, base, other, text);
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            target.run(&input, &scratch)
        }))
        .is_ok();
        if !ok {
            crashes += 1;
            let dir = root().join("crashes");
            let _ = std::fs::create_dir_all(&dir);
            let p = dir.join(format!("{}-{seed}-{i}", target.name()));
            let _ = std::fs::write(&p, &input);
        }
        if i > 0 && i % 1_000_000 == 0 {
            eprintln!(
                "{}: {i} executions, {crashes} panics, {:.0} s",
                target.name(),
                t0.elapsed().as_secs_f64()
            );
        }
    }
    for ext in ["npy", "idx", "gz"] {
        let _ = std::fs::remove_file(scratch.with_extension(ext));
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{}: {execs} executions in {secs:.0} s ({:.0}/s), seed {seed}, corpus {}, panics {crashes}",
        target.name(),
        execs as f64 / secs,
        corpus.len()
    );
    if crashes > 0 {
        println!("  reproducers in {}", root().join("crashes").display());
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// The seed corpus: every `.rrae` file of the repository; `.npy` and IDX files of a
/// few shapes and types; the artifact and checkpoint of a tiny trained model.
fn seed() -> Result<(), String> {
    let repo = root().join("..");
    let put = |target: Target, name: &str, bytes: &[u8]| -> Result<(), String> {
        let dir = root().join("corpus").join(target.name());
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join(name), bytes).map_err(|e| e.to_string())
    };
    for sub in [
        "models",
        "models/mnist",
        "models/fashion_mnist",
        "examples",
        "stdlib",
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(repo.join(sub))
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "rrae"))
            .collect();
        files.sort();
        for f in files {
            let name = format!(
                "{}-{}",
                sub.replace('/', "-"),
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            );
            put(
                Target::Check,
                &name,
                &std::fs::read(&f).map_err(|e| e.to_string())?,
            )?;
        }
    }
    let npy = rrae_engine::files::npy_bytes;
    put(
        Target::Npy,
        "2x3.npy",
        &npy(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]),
    )?;
    put(Target::Npy, "4x16.npy", &npy(4, 16, &[0.25; 64]))?;
    let mut idx = vec![0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 4];
    idx.extend((0..48u8).map(|v| v * 5));
    put(Target::Idx, "3x4x4-u8.idx", &idx)?;
    let mut f32idx = vec![0, 0, 0x0D, 2, 0, 0, 0, 2, 0, 0, 0, 3];
    f32idx.extend(
        [1.0f32, -2.0, 3.5, 0.0, 7.0, 8.0]
            .iter()
            .flat_map(|v| v.to_be_bytes()),
    );
    put(Target::Idx, "2x3-f32.idx", &f32idx)?;
    let mnist = repo.join("../shared/data/mnist/t10k-images-idx3-ubyte.gz");
    if let Ok(b) = std::fs::read(&mnist) {
        put(Target::Idx, "mnist-t10k-head.gz", &b[..b.len().min(4096)])?;
    }
    // Language-server streams: a session as an editor sends it, and malformed frames.
    let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{body}", body.len());
    let session = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#,
        r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///m.rrae","languageId":"rrae","version":1,"text":"use cnn\nmodel m { input [1, 8, 8] }"}}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///m.rrae"},"position":{"line":1,"character":3}}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"shutdown"}"#,
        r#"{"jsonrpc":"2.0","method":"exit"}"#,
    ];
    put(
        Target::Lsp,
        "session",
        session.map(frame).concat().as_bytes(),
    )?;
    put(
        Target::Lsp,
        "malformed",
        format!(
            "{}Content-Length: x\r\n\r\n{}Content-Length: 18446744073709551615\r\n\r\n{{}}",
            frame("not json"),
            frame(r#"{"id":1,"method":5}"#)
        )
        .as_bytes(),
    )?;
    let (artifact, checkpoint) = trained()?;
    put(Target::Artifact, "tiny.rra", &artifact)?;
    put(Target::Checkpoint, "tiny.safetensors", &checkpoint)?;
    println!("seed corpus written to {}", root().join("corpus").display());
    Ok(())
}

/// A tiny model trained for a few steps, through `rrae run`'s code: its artifact and
/// its checkpoint.
fn trained() -> Result<(Vec<u8>, Vec<u8>), String> {
    const SRC: &str = "data b = gaussian_bumps(grid = 8, train_per_axis = 4, test = 4)
model tiny {
    input [1, 8, 8]
    encoder { conv2d(4, 3, stride = 2, padding = 1) relu flatten linear(8) }
    latent svd_truncate(k = 2)
    decoder { linear(64) reshape([1, 8, 8]) conv2d(1, 1) }
}
train {
    steps = 6
    fine_tune_steps = 2
    batch = 8
    checkpoint_every = 4
}
eval {
    interpolation_pairs = 0
    random_samples = 0
}
";
    struct Quiet;
    impl rrae_train::schedule::Progress for Quiet {
        fn event(&mut self, _: &rrae_train::schedule::Event) {}
        fn message(&mut self, _: &str) {}
    }
    let checked = rrae_lang::check_str("tiny.rrae", SRC);
    let ir = checked.result.map_err(|e| format!("{e:?}"))?;
    let dir = std::env::temp_dir().join(format!("rrae-fuzz-seed-{}", std::process::id()));
    let opts = rrae_report::run::RunOptions::default();
    rrae_report::run::run(&ir, SRC, "tiny.rrae", &dir, &mut Quiet, &opts)
        .map_err(|e| e.to_string())?;
    let read = |f: &str| std::fs::read(dir.join(f)).map_err(|e| e.to_string());
    let out = (read("model.rra")?, read("checkpoint.safetensors")?);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}
