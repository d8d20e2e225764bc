//! The parser's own tests: one per item, statement, section, type and expression form of
//! the syntax tree, each checking the tree it builds (and where it says it came from),
//! so a change to the grammar is caught here before it reaches the snapshots.

use crate::ast::*;

fn module(text: &str) -> Module {
    let (_, m) = crate::parse("t.rrae", text);
    m.unwrap_or_else(|e| panic!("{text:?} does not parse: {e:?}")) // ok: test
}

fn item(text: &str) -> Item {
    let mut m = module(text);
    assert_eq!(m.items.len(), 1, "{text:?}");
    m.items.remove(0)
}

/// The expression of `let x = <text>`.
fn expr(text: &str) -> Expr {
    match item(&format!("let x = {text}")) {
        Item::Let(l) => l.value,
        other => panic!("not a let: {other:?}"), // ok: test
    }
}

fn int(e: &Expr) -> i64 {
    match e.kind {
        ExprKind::Int(v) => v,
        ref other => panic!("not an int: {other:?}"), // ok: test
    }
}

/// The source text a span covers.
fn text_of(src: &str, s: crate::span::Span) -> &str {
    &src[s.start as usize..s.end as usize]
}

#[test]
fn use_names_a_stdlib_module_or_a_file() {
    match item("use cnn") {
        Item::Use(Use {
            target: UseTarget::Stdlib(id),
            ..
        }) => assert_eq!(id.name, "cnn"),
        other => panic!("{other:?}"), // ok: test
    }
    match item("use \"blocks/mine.rrae\"") {
        Item::Use(Use {
            target: UseTarget::File { path, .. },
            ..
        }) => assert_eq!(path, "blocks/mine.rrae"),
        other => panic!("{other:?}"), // ok: test
    }
}

#[test]
fn a_block_has_typed_parameters_with_defaults_and_a_body() {
    let src = "block widen(n: int, scale: float = 2.0, on: bool = true, name: str = \"w\", sizes: list = [1, 2]) {\n    linear(n)\n    relu\n}";
    let Item::Block(b) = item(src) else {
        panic!("not a block"); // ok: test
    };
    assert_eq!(b.name.name, "widen");
    assert_eq!(text_of(src, b.name.span), "widen");
    let tys: Vec<Ty> = b.params.iter().map(|p| p.ty.ty).collect();
    assert_eq!(tys, vec![Ty::Int, Ty::Float, Ty::Bool, Ty::Str, Ty::List]);
    assert!(b.params[0].default.is_none());
    assert!(b.params[1..].iter().all(|p| p.default.is_some()));
    assert_eq!(b.body.len(), 2);
    // A layer without arguments is a call without parentheses.
    match &b.body[1] {
        Stmt::Layer(c) => assert!(c.name.name == "relu" && !c.parens && c.args.is_empty()),
        other => panic!("{other:?}"), // ok: test
    }
}

#[test]
fn let_binds_a_name_at_file_level_and_in_a_body() {
    let Item::Let(l) = item("let L = 64") else {
        panic!("not a let"); // ok: test
    };
    assert_eq!((l.name.name.as_str(), int(&l.value)), ("L", 64));
    let Item::Block(b) = item("block b() { let w = 3 linear(w) }") else {
        panic!("not a block"); // ok: test
    };
    assert!(matches!(&b.body[0], Stmt::Let(l) if l.name.name == "w"));
}

#[test]
fn data_is_a_named_source_call_with_named_arguments() {
    let Item::Data(d) = item("data bumps = gaussian_bumps(grid = 32, sigma = 0.2)") else {
        panic!("not data"); // ok: test
    };
    assert_eq!(d.name.name, "bumps");
    assert_eq!(d.source.name.name, "gaussian_bumps");
    let names: Vec<&str> = d
        .source
        .args
        .iter()
        .filter_map(|a| a.name.as_ref().map(|n| n.name.as_str()))
        .collect();
    assert_eq!(names, vec!["grid", "sigma"]);
}

#[test]
fn a_model_has_its_four_sections_in_order() {
    let src = "model m {\n    input [1, 8, 8]\n    encoder { flatten linear(4) }\n    latent svd_truncate(k = 2)\n    decoder { linear(64) }\n}";
    let Item::Model(m) = item(src) else {
        panic!("not a model"); // ok: test
    };
    let keywords: Vec<&str> = m.sections.iter().map(Section::keyword).collect();
    assert_eq!(keywords, vec!["input", "encoder", "latent", "decoder"]);
    match &m.sections[2] {
        Section::Latent { op, .. } => {
            assert_eq!(op.name.name, "svd_truncate");
            assert_eq!(text_of(src, op.span), "svd_truncate(k = 2)");
        }
        other => panic!("{other:?}"), // ok: test
    }
    match &m.sections[1] {
        Section::Encoder { body, .. } => assert_eq!(body.len(), 2),
        other => panic!("{other:?}"), // ok: test
    }
}

#[test]
fn train_and_eval_are_settings() {
    let m = module("train { steps = 10 lr = 1e-3 }\neval { random_samples = 5 }");
    match (&m.items[0], &m.items[1]) {
        (Item::Train(t), Item::Eval(e)) => {
            let keys: Vec<&str> = t.entries.iter().map(|s| s.key.name.as_str()).collect();
            assert_eq!(keys, vec!["steps", "lr"]);
            assert!(matches!(t.entries[1].value.kind, ExprKind::Float(v) if v == 1e-3));
            assert_eq!(e.entries[0].key.name, "random_samples");
        }
        other => panic!("{other:?}"), // ok: test
    }
}

#[test]
fn for_repeats_a_body_over_a_list() {
    let Item::Block(b) = item("block b(ws: list) { for w in ws { conv2d(w, 3) relu } }") else {
        panic!("not a block"); // ok: test
    };
    match &b.body[0] {
        Stmt::For(f) => {
            assert_eq!(f.var.name, "w");
            assert!(matches!(&f.iter.kind, ExprKind::Name(n) if n == "ws"));
            assert_eq!(f.body.len(), 2);
        }
        other => panic!("{other:?}"), // ok: test
    }
}

#[test]
fn literals_names_lists_and_calls() {
    assert_eq!(int(&expr("42")), 42);
    assert!(matches!(expr("2.5").kind, ExprKind::Float(v) if v == 2.5));
    assert!(matches!(expr("true").kind, ExprKind::Bool(true)));
    assert!(matches!(expr("false").kind, ExprKind::Bool(false)));
    assert!(matches!(expr("\"a b\"").kind, ExprKind::Str(ref s) if s == "a b"));
    assert!(matches!(expr("L").kind, ExprKind::Name(ref n) if n == "L"));
    match expr("[1, 2, 3]").kind {
        ExprKind::List(items) => {
            assert_eq!(items.iter().map(int).collect::<Vec<_>>(), vec![1, 2, 3])
        }
        other => panic!("{other:?}"), // ok: test
    }
    match expr("len([1])").kind {
        ExprKind::Call(c) => assert!(c.name.name == "len" && c.parens && c.args.len() == 1),
        other => panic!("{other:?}"), // ok: test
    }
}

#[test]
fn operators_bind_as_in_arithmetic() {
    // `*` before `+`, left to right within a level.
    match expr("1 + 2 * 3").kind {
        ExprKind::Binary(BinOp::Add, l, r) => {
            assert_eq!(int(&l), 1);
            assert!(matches!(r.kind, ExprKind::Binary(BinOp::Mul, _, _)));
        }
        other => panic!("{other:?}"), // ok: test
    }
    match expr("8 - 4 - 2").kind {
        ExprKind::Binary(BinOp::Sub, l, r) => {
            assert!(matches!(l.kind, ExprKind::Binary(BinOp::Sub, _, _)));
            assert_eq!(int(&r), 2);
        }
        other => panic!("{other:?}"), // ok: test
    }
    for (src, op) in [
        ("6 / 4", BinOp::Div),
        ("7 // 2", BinOp::FloorDiv),
        ("7 % 2", BinOp::Rem),
        ("(1 + 2) * 3", BinOp::Mul),
    ] {
        assert!(
            matches!(expr(src).kind, ExprKind::Binary(o, _, _) if o == op),
            "{src}"
        );
    }
    assert!(matches!(expr("-3").kind, ExprKind::Neg(_)));
}

#[test]
fn indexing_and_its_span() {
    let src = "let x = out[1]";
    let Item::Let(l) = item(src) else {
        panic!("not a let"); // ok: test
    };
    match &l.value.kind {
        ExprKind::Index(base, at) => {
            assert!(matches!(&base.kind, ExprKind::Name(n) if n == "out"));
            assert_eq!(int(at), 1);
        }
        other => panic!("{other:?}"), // ok: test
    }
    assert_eq!(text_of(src, l.value.span), "out[1]");
}

#[test]
fn comments_and_blank_lines_are_not_items() {
    let m = module("# a comment\n\nlet a = 1  # trailing\n\n# end\n");
    assert_eq!(m.items.len(), 1);
}

#[test]
fn what_does_not_parse_is_a_coded_error_inside_the_text() {
    for bad in [
        "model {",
        "let = 3",
        "block b(n: matrix) {}",
        "data d = ",
        "use 3",
    ] {
        let (_, r) = crate::parse("t.rrae", bad);
        let Err(e) = r else {
            panic!("{bad:?} parsed"); // ok: test
        };
        assert!(e.code().starts_with('E'), "{bad:?}: {e:?}");
        assert!(
            e.span().end as usize <= bad.len(),
            "{bad:?}: {:?}",
            e.span()
        );
    }
}
