//! Name resolution's own tests: one per rule of how names, blocks, arguments, loops
//! and imports resolve, checked on the IR they produce (each error a rule can raise has
//! its own case in docs/errors.md, tested by `tests/diagnostics.rs`).

use crate::ir::{Ir, Op};
use crate::MemLoader;

fn model(items: &str, enc: &str) -> String {
    format!(
        "{items}\nmodel m {{ input [1, 8, 8] encoder {{ {enc} }} latent identity decoder {{ linear(64) reshape([1, 8, 8]) }} }}"
    )
}

fn check(src: &str, loader: &MemLoader) -> Ir {
    crate::check_with("m.rrae", src, loader)
        .result
        .unwrap_or_else(|e| panic!("{}: {e:?}", e.code())) // ok: test
}

/// The encoder's operations as `rrae check` names them.
fn ops(ir: &Ir) -> Vec<String> {
    ir.encoder.iter().map(|n| n.op.to_string()).collect()
}

fn widths(ir: &Ir) -> Vec<usize> {
    ir.encoder
        .iter()
        .filter_map(|n| match &n.op {
            Op::Linear(l) => Some(l.out_features),
            _ => None,
        })
        .collect()
}

#[test]
fn a_block_call_binds_positional_named_and_default_arguments() {
    let src = model(
        "block two(a: int, b: int = 5, c: int = 7) { linear(a) linear(b) linear(c) }",
        "flatten two(3, c = 4)",
    );
    let ir = check(&src, &MemLoader::default());
    assert_eq!(widths(&ir), vec![3, 5, 4]);
}

#[test]
fn names_resolve_innermost_first() {
    // The block's own `let` and parameter shadow the file-level constant.
    let src = model(
        "let w = 100\nblock inner(w: int) { let v = w * 2 linear(v) }",
        "flatten linear(w) inner(3)",
    );
    let ir = check(&src, &MemLoader::default());
    assert_eq!(widths(&ir), vec![100, 6]);
}

#[test]
fn a_for_loop_expands_its_body_once_per_element() {
    let src = model(
        "block stack(ws: list) { for w in ws { linear(w) relu } }",
        "flatten stack([4, 3, 2])",
    );
    let ir = check(&src, &MemLoader::default());
    assert_eq!(widths(&ir), vec![4, 3, 2]);
    assert_eq!(ops(&ir).iter().filter(|o| o.as_str() == "relu").count(), 3);
}

#[test]
fn every_node_remembers_the_block_calls_it_came_from() {
    let src = model(
        "block inner(n: int) { linear(n) }\nblock outer() { inner(4) relu }",
        "flatten outer()",
    );
    let ir = check(&src, &MemLoader::default());
    let lin = &ir.encoder[1];
    let calls: Vec<&str> = lin.trace.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(calls, vec!["outer", "inner"], "outermost first");
    assert!(
        ir.encoder[0].trace.is_empty(),
        "flatten was written in the model itself"
    );
}

#[test]
fn use_brings_in_the_blocks_of_a_file_or_of_the_stdlib() {
    let loader =
        MemLoader::default().with("lib/blocks.rrae", "block half(n: int) { linear(n // 2) }");
    let src = model("use \"lib/blocks.rrae\"", "flatten half(10)");
    assert_eq!(widths(&check(&src, &loader)), vec![5]);
    let src = model("use mlp", "flatten mlp_encoder(latent = 6, widths = [12])");
    let ir = check(&src, &MemLoader::default());
    assert_eq!(widths(&ir).last(), Some(&6));
}

#[test]
fn constants_are_evaluated_where_they_are_declared() {
    let src = model(
        "let a = 2 * 3\nlet b = a + 1\nlet sizes = [a, b]",
        "flatten linear(sizes[1])",
    );
    let ir = check(&src, &MemLoader::default());
    assert_eq!(widths(&ir), vec![7]);
}
