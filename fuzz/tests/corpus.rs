//! Replays the kept fuzz corpus (seeds, and every input that once made a target panic,
//! kept after the fix) through its target: none may panic.

use rrae_fuzz::{corpus, Target, TARGETS};

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
