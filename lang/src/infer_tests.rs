//! Shape inference's own tests: one per rule, each on the smallest model that exercises
//! it, checking the shape (and parameter count) it infers or the error it reports.

use crate::ir::{Ir, Node};

/// A model with `input`, the encoder `enc` (ending at the latent width) and the decoder
/// `dec`, on 16×16 bumps.
fn check(input: &str, enc: &str, latent: &str, dec: &str) -> Result<Ir, crate::Error> {
    let src = format!(
        "data d = gaussian_bumps(grid = 16, train_per_axis = 3, test = 2)\n\
         model m {{ input {input} encoder {{ {enc} }} latent {latent} decoder {{ {dec} }} }}"
    );
    crate::check_str("m.rrae", &src).result
}

fn ok<T>(r: Result<T, crate::Error>) -> T {
    r.unwrap_or_else(|e| panic!("{}: {e:?}", e.code())) // ok: test
}

fn out(n: &Node) -> Vec<usize> {
    n.output.dims().to_vec()
}

const DEC16: &str = "linear(256) reshape([1, 16, 16])";

#[test]
fn conv2d_output_follows_kernel_stride_padding_and_dilation() {
    let ir = ok(check(
        "[1, 16, 16]",
        "conv2d(4, 3, stride = 2, padding = 1) conv2d(2, 3, dilation = 2) flatten linear(8)",
        "identity",
        DEC16,
    ));
    // (16 + 2 − 3) / 2 + 1 = 8; then 8 − 2·(3 − 1) = 4.
    assert_eq!(out(&ir.encoder[0]), vec![4, 8, 8]);
    assert_eq!(ir.encoder[0].params, 4 * 9 + 4);
    assert_eq!(out(&ir.encoder[1]), vec![2, 4, 4]);
    assert_eq!(ir.encoder[1].params, 2 * 4 * 9 + 2);
}

#[test]
fn conv_transpose2d_output_includes_the_output_padding() {
    let ir = ok(check(
        "[1, 16, 16]",
        "flatten linear(8)",
        "identity",
        "linear(4 * 8 * 8) reshape([4, 8, 8]) conv_transpose2d(1, 3, stride = 2, padding = 1, output_padding = 1)",
    ));
    // (8 − 1)·2 − 2 + 3 + 1 = 16.
    assert_eq!(out(&ir.decoder[2]), vec![1, 16, 16]);
    assert_eq!(ir.decoder[2].params, 4 * 9 + 1);
}

#[test]
fn conv1d_runs_along_the_last_axis() {
    // No data: shapes are checked without any.
    let src = "model m { input [2, 20] encoder { conv1d(3, 5, stride = 3) flatten linear(4) } latent identity decoder { linear(40) reshape([2, 20]) } }";
    let ir = ok(crate::check_str("m.rrae", src).result);
    // (20 − 5) / 3 + 1 = 6.
    assert_eq!(out(&ir.encoder[0]), vec![3, 6]);
    assert_eq!(ir.encoder[0].params, 3 * 2 * 5 + 3);
}

#[test]
fn flatten_linear_and_activations() {
    let ir = ok(check(
        "[1, 16, 16]",
        "flatten relu linear(10) tanh sigmoid leaky_relu(0.1)",
        "identity",
        DEC16,
    ));
    assert_eq!(out(&ir.encoder[0]), vec![256]);
    assert_eq!(
        out(&ir.encoder[1]),
        vec![256],
        "an activation keeps its input's shape"
    );
    assert_eq!(out(&ir.encoder[2]), vec![10]);
    assert_eq!(ir.encoder[2].params, 256 * 10 + 10);
    assert!(ir.encoder[3..].iter().all(|n| out(n) == vec![10]));
    assert_eq!(ir.latent.dim, 10);
}

#[test]
fn reshape_keeps_the_element_count_or_is_refused() {
    let ir = ok(check("[1, 16, 16]", "flatten linear(8)", "identity", DEC16));
    assert_eq!(out(&ir.decoder[1]), vec![1, 16, 16]);
    let e = check(
        "[1, 16, 16]",
        "flatten linear(8)",
        "identity",
        "linear(256) reshape([5, 5, 5])",
    );
    let e = e
        .err()
        .unwrap_or_else(|| panic!("a 256 → 125 reshape checked")); // ok: test
    let msg = e.diagnostic().message;
    assert_eq!(e.code(), "E032", "{msg}");
    assert!(
        msg.contains("256 values") && msg.contains("[5, 5, 5]"),
        "{msg}"
    );
}

#[test]
fn a_convolution_that_leaves_no_output_is_refused() {
    let e = check(
        "[1, 16, 16]",
        "conv2d(1, 20) flatten linear(4)",
        "identity",
        DEC16,
    );
    assert!(e.is_err(), "a 20×20 kernel on 16×16 checked");
}

#[test]
fn the_decoder_must_give_back_the_input_shape() {
    let e = check(
        "[1, 16, 16]",
        "flatten linear(8)",
        "identity",
        "linear(225) reshape([1, 15, 15])",
    );
    let e = e.err().unwrap_or_else(|| panic!("a 15×15 output checked")); // ok: test
    let d = e.diagnostic();
    assert!(
        d.message.contains("[1, 15, 15]") && d.message.contains("[1, 16, 16]"),
        "{}: {}",
        d.code,
        d.message
    );
}

#[test]
fn the_latent_must_be_flat_and_its_rank_within_it() {
    // The encoder ends in an image: no latent vector.
    assert!(check("[1, 16, 16]", "conv2d(2, 3)", "identity", DEC16).is_err());
    // k above L.
    assert!(check(
        "[1, 16, 16]",
        "flatten linear(8)",
        "svd_truncate(k = 9)",
        DEC16
    )
    .is_err());
    let ir = ok(check(
        "[1, 16, 16]",
        "flatten linear(8)",
        "svd_truncate(k = 8)",
        DEC16,
    ));
    assert_eq!(ir.latent.dim, 8);
}

#[test]
fn parameter_counts_add_up_per_stage() {
    let ir = ok(check("[1, 16, 16]", "flatten linear(8)", "identity", DEC16));
    assert_eq!(ir.encoder_params(), 256 * 8 + 8);
    assert_eq!(ir.decoder_params(), 8 * 256 + 256);
    assert_eq!(ir.total_params(), ir.encoder_params() + ir.decoder_params());
}

/// The train block's constructors: their arguments bound against the catalog rows,
/// whose defaults fill what a model leaves out (declared there only).
#[test]
fn optimizer_and_schedule_take_their_defaults_from_the_catalog() {
    use crate::catalog::{find, CONSTRUCTORS};
    use crate::ir::{Optimizer, Schedule};
    use crate::signature::Dflt;
    let default = |op: &str, p: &str| {
        let spec = find(CONSTRUCTORS, op).unwrap_or_else(|| panic!("no {op}")); // ok: test
        match spec.params.iter().find(|q| q.name == p).map(|q| q.default) {
            Some(Dflt::Float(v)) => v,
            other => panic!("{op}.{p}: {other:?}"), // ok: test
        }
    };
    let train = |settings: &str| {
        let src = format!(
            "data d = gaussian_bumps(grid = 16, train_per_axis = 3, test = 2)\n\
             model m {{ input [1, 16, 16] encoder {{ flatten linear(8) }} latent identity decoder {{ {DEC16} }} }}\n\
             train {{ {settings} }}"
        );
        crate::check_str("m.rrae", &src).result.map(|ir| ir.train)
    };
    let t = ok(train("optimizer = adam(beta1 = 0.8) schedule = step(100)"));
    assert_eq!(
        t.optimizer,
        Optimizer::Adam {
            beta1: 0.8,
            beta2: default("adam", "beta2"),
            eps: default("adam", "eps"),
        }
    );
    assert_eq!(
        t.schedule,
        Schedule::Step {
            every: 100,
            gamma: default("step", "gamma"),
        }
    );
    let t = ok(train("optimizer = adabelief"));
    assert_eq!(
        t.optimizer,
        Optimizer::AdaBelief {
            beta1: default("adabelief", "beta1"),
            beta2: default("adabelief", "beta2"),
            eps: default("adabelief", "eps"),
            eps_root: default("adabelief", "eps_root"),
        }
    );
    // A step schedule without `every` has nothing to step by.
    let e = train("schedule = step").err().map(|e| e.code());
    assert_eq!(e, Some("E014"));
}

/// k_max = min(L, batch) is computed once, with the batch clamped to a smaller
/// training set as the loader clamps it; the rank check reads the same number.
#[test]
fn k_max_is_min_of_latent_batch_and_training_samples() {
    let model = |data: &str, k: &str| {
        format!(
            "{data}\nmodel m {{ input [1, 8, 8] encoder {{ flatten linear(32) }} latent svd_truncate(k = {k}) decoder {{ linear(64) reshape([1, 8, 8]) }} }}\ntrain {{ batch = 64 }}"
        )
    };
    let ir = |src: String| crate::check_str("m.rrae", &src).result;
    // No data: min(32, 64).
    assert_eq!(ok(ir(model("", "adaptive"))).latent.k_max, 32);
    // 3 × 3 = 9 training bumps: a batch holds at most 9.
    let nine = "data d = gaussian_bumps(grid = 8, train_per_axis = 3, test = 4)";
    assert_eq!(ok(ir(model(nine, "adaptive"))).latent.k_max, 9);
    assert!(ir(model(nine, "9")).is_ok());
    assert!(ir(model(nine, "10")).is_err());
}
