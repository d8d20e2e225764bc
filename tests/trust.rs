//! Small things that cost a user's trust, each as the user met it: diagnostics in
//! colour on a terminal (and never in a pipe), and an adaptive search cut short by its
//! budget saying so instead of presenting where it stopped as k*.

#[path = "common/scratch.rs"]
mod scratch;
use scratch::Scratch;
use std::process::Command;

const TINY: &str = include_str!("fixtures/tiny.rrae");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn diagnostics_are_coloured_when_asked_and_plain_in_a_pipe() {
    let s = Scratch::new("trust", "colour");
    s.write("m.rrae", TINY.replace("k = 2", "k = 40"));
    let run = |env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rrae"));
        c.args(["check", "m.rrae"])
            .current_dir(&s.0)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap_or_else(|e| panic!("{e}")); // ok: test
        assert_eq!(out.status.code(), Some(1));
        text(&out.stderr)
    };
    let plain = run(&[]);
    assert!(
        plain.starts_with("error[E034]") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    let coloured = run(&[("CLICOLOR_FORCE", "1")]);
    assert!(
        coloured.starts_with("\x1b[1m\x1b[31merror[E034]\x1b[0m"),
        "{coloured:?}"
    );
    assert!(
        coloured.contains("\x1b[1m\x1b[34m-->\x1b[0m"),
        "{coloured:?}"
    );
    // NO_COLOR wins over a terminal, never over CLICOLOR_FORCE.
    assert!(!run(&[("NO_COLOR", "1")]).contains('\x1b'));
}

#[test]
fn an_adaptive_search_cut_short_says_so() {
    let s = Scratch::new("trust", "adaptive");
    s.write(
        "m.rrae",
        TINY.replace("svd_truncate(k = 2)", "svd_truncate(k = adaptive)"),
    );
    let out = s.rrae(&[
        "run", "m.rrae", "-q", "--device", "cpu", "--out", "r", "--steps", "6",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: the adaptive search did not finish")
            && err.contains("step budget (6 steps)")
            && err.contains("not a rank it found"),
        "{err}"
    );
}
