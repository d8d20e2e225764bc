//! Replays the kept fuzz corpus (seeds, and every input that once made a target panic,
//! kept after the fix) through its target, and runs a short seeded campaign per target
//! in every `cargo test`: none may panic.

use rrae_fuzz::{check, corpus, mutate, Rng, Target, TARGETS};

#[test]
fn every_kept_input_runs_without_a_panic() {
    let scratch = std::env::temp_dir().join(format!("rrae-fuzz-replay-{}", std::process::id()));
    let mut total = 0;
    for target in TARGETS {
        let inputs = corpus(target);
        assert!(!inputs.is_empty(), "no corpus for {}", target.name());
        for (path, bytes) in inputs {
            let ok = std::panic::catch_unwind(|| target.run(&bytes, &scratch)).is_ok();
            assert!(ok, "{} panics on {}", target.name(), path.display());
            total += 1;
        }
    }
    for ext in ["npy", "idx", "gz"] {
        let _ = std::fs::remove_file(scratch.with_extension(ext));
    }
    assert!(total >= 30, "{total} inputs");
}

#[test]
fn target_names_round_trip() {
    for t in TARGETS {
        assert_eq!(Target::parse(t.name()), Some(t));
    }
    assert_eq!(Target::parse("nope"), None);
}

/// A short campaign in every test run: 100 000 mutated sources through the checker
/// (the bulk: they reach deep into resolution and shape inference), and 5 000 inputs
/// per file target.
#[test]
fn a_short_campaign_per_target_finds_no_panic() {
    let scratch = std::env::temp_dir().join(format!("rrae-fuzz-short-{}", std::process::id()));
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let sources = corpus(Target::Check);
    let (mut cases, mut accepted) = (0usize, 0usize);
    for _ in 0..100_000 {
        let base = &sources[rng.below(sources.len())].1;
        let other = &sources[rng.below(sources.len())].1;
        let src = mutate(&mut rng, base, other, true);
        accepted += usize::from(check(&String::from_utf8_lossy(&src)));
        cases += 1;
    }
    // The mutations must reach past the parser: a campaign whose every case failed
    // early would test nothing of resolution and shape inference.
    assert!(
        accepted > cases / 50 && accepted < cases / 2,
        "{accepted} of {cases} sources checked: the mutations are too mild or too harsh"
    );
    for target in [
        Target::Npy,
        Target::Idx,
        Target::Artifact,
        Target::Checkpoint,
        Target::Lsp,
    ] {
        let inputs = corpus(target);
        for _ in 0..5_000 {
            let base = &inputs[rng.below(inputs.len())].1;
            let other = &inputs[rng.below(inputs.len())].1;
            target.run(&mutate(&mut rng, base, other, false), &scratch);
        }
    }
    for ext in ["npy", "idx", "gz"] {
        let _ = std::fs::remove_file(scratch.with_extension(ext));
    }
}
