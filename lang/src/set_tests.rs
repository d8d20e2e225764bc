use super::*;

const FILE: &str = "\
let L = 16

data d = gaussian_bumps(grid = 8, train_per_axis = 4, test = 4)

model m {
    input [1, 8, 8]
    encoder { flatten linear(L) }
    latent svd_truncate(k = 2)
    decoder { linear(64) reshape([1, 8, 8]) }
}

train {
    steps = 10  # short
    batch = 8
}
";

fn set(sets: &[&str]) -> Result<String, SetError> {
    let sets: Vec<Assignment> = sets.iter().map(|s| s.parse().unwrap()).collect(); // ok: test
    apply("m.rrae", FILE, &sets)
}

#[test]
fn a_written_setting_is_replaced_and_its_comment_kept() {
    let out = set(&["train.steps=300"]).unwrap(); // ok: test
    assert!(out.contains("    steps = 300  # short\n"), "{out}");
    assert_eq!(out.len(), FILE.len() + 1);
}

#[test]
fn an_absent_setting_is_added_to_its_block() {
    let out = set(&["train.lr=3e-4"]).unwrap(); // ok: test
    assert!(out.contains("    batch = 8\n    lr = 3e-4\n}"), "{out}");
    let ir = crate::check_str("m.rrae", &out).result.unwrap(); // ok: test
    assert_eq!(ir.train.lr, 3e-4);
}

#[test]
fn an_absent_block_is_added() {
    let out = set(&["eval.random_samples=7"]).unwrap(); // ok: test
    assert!(
        out.ends_with("\neval {\n    random_samples = 7\n}\n"),
        "{out}"
    );
    assert!(crate::check_str("m.rrae", &out).result.is_ok());
}

#[test]
fn latent_arguments_the_whole_operator_data_and_lets() {
    let out = set(&["latent.k=4", "data.grid=16", "L=32"]).unwrap(); // ok: test
    assert!(out.contains("latent svd_truncate(k = 4)"), "{out}");
    assert!(out.contains("gaussian_bumps(grid = 16,"), "{out}");
    assert!(out.contains("let L = 32\n"), "{out}");
    let out = set(&["latent=svd_truncate(k = adaptive)"]).unwrap(); // ok: test
    assert!(out.contains("latent svd_truncate(k = adaptive)\n"), "{out}");
    let out = set(&["data.seed=3", "data.sigma=0.1"]).unwrap(); // ok: test
    assert!(
        out.contains(
            "gaussian_bumps(grid = 8, train_per_axis = 4, test = 4, seed = 3, sigma = 0.1)"
        ),
        "{out}"
    );
}

#[test]
fn the_last_assignment_of_a_path_wins() {
    let out = set(&["latent.k=4", "latent.k=5"]).unwrap(); // ok: test
    assert!(out.contains("svd_truncate(k = 5)"), "{out}");
}

#[test]
fn a_bare_operator_gets_parentheses() {
    let text = FILE.replace("svd_truncate(k = 2)", "identity");
    let a: Assignment = "latent.scale=2".parse().unwrap(); // ok: test
    let out = apply("m.rrae", &text, &[a]).unwrap(); // ok: test
    assert!(out.contains("latent identity(scale = 2)\n"), "{out}");
}

#[test]
fn set_values_meet_the_files_checks() {
    let out = set(&["latent.k=100"]).unwrap(); // ok: test
    let err = crate::check_str("m.rrae", &out).render_error().unwrap(); // ok: test
    assert!(err.contains("k = 100"), "{err}");
    let out = set(&["train.lrr=1"]).unwrap(); // ok: test
    let err = crate::check_str("m.rrae", &out).render_error().unwrap(); // ok: test
    assert!(err.contains("lrr"), "{err}");
}

#[test]
fn what_cannot_be_applied_says_why() {
    let bad = |s: &str| set(&["latent.k=3", s]).unwrap_err(); // ok: test
    let e = bad("train.lr=3e-4 )");
    assert_eq!(e.error.code(), "E043");
    let r = e.render();
    assert!(
        r.contains("`3e-4 )` is not a value") && r.contains("--> --set:2:10"),
        "{r}"
    );
    let e = bad("W=3");
    assert_eq!(e.error.code(), "E044");
    let r = e.render();
    assert!(
        r.contains("no `let W`") && r.contains("`L`") && r.contains("--> --set:2:1"),
        "{r}"
    );
    assert!(bad("data.other.grid=3")
        .render()
        .contains("no `data other`"));
    assert!(bad("encoder.linear=3")
        .render()
        .contains("not a path --set knows"));
    for s in ["lr", "=3", "train..lr=1", "train.lr=", "1x=2"] {
        assert!(s.parse::<Assignment>().is_err(), "{s}");
    }
}
