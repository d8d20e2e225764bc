//! Top-level items.
//!
//! ```text
//! module  := item*
//! item    := "use" (ident | string)
//!          | "block" ident "(" (param ("," param)* ","?)? ")" body
//!          | "let" ident "=" expr
//!          | "data" ident "=" call
//!          | "model" ident "{" section* "}"
//!          | ("train" | "eval") "{" (ident "=" expr ";"?)* "}"
//! param   := ident ":" type ("=" expr)?
//! section := "input" expr | "encoder" body | "latent" call | "decoder" body
//! ```

use super::expr::{call, expr, string};
use super::stmt::{body, let_rest};
use super::*;
use crate::ast::*;

const ITEM_KEYWORDS: [&str; 7] = ["use", "block", "let", "data", "model", "train", "eval"];

/// Parse a whole file.
pub fn parse_module(file: FileId, text: &str) -> Result<Module, SyntaxError> {
    let mut i = In::new_extra(text, file);
    let mut items = Vec::new();
    loop {
        let (j, _) = ws(i).map_err(unwrap_err)?;
        if j.fragment().is_empty() {
            return Ok(Module { file, items });
        }
        let (j, it) = item(j).map_err(unwrap_err)?;
        items.push(it);
        i = j;
    }
}

fn unwrap_err(e: nom::Err<SyntaxError>) -> SyntaxError {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => SyntaxError {
            offset: 0,
            len: 0,
            kind: SyntaxKind::Nom(ErrorKind::Eof),
        },
    }
}

fn item(i: In) -> PResult<Item> {
    if let Ok((j, kw)) = keyword("use")(i) {
        return use_item(j, kw);
    }
    if let Ok((j, kw)) = keyword("block")(i) {
        return block(j, kw);
    }
    if let Ok((j, kw)) = keyword("let")(i) {
        let (j, l) = let_rest(j, kw)?;
        return Ok((j, Item::Let(l)));
    }
    if let Ok((j, kw)) = keyword("data")(i) {
        return data(j, kw);
    }
    if let Ok((j, kw)) = keyword("model")(i) {
        return model(j, kw);
    }
    if let Ok((j, kw)) = keyword("train")(i) {
        let (j, s) = settings(j, kw)?;
        return Ok((j, Item::Train(s)));
    }
    if let Ok((j, kw)) = keyword("eval")(i) {
        let (j, s) = settings(j, kw)?;
        return Ok((j, Item::Eval(s)));
    }
    let (j, _) = ws(i)?;
    let found = describe_next(&j);
    Err(nom::Err::Failure(SyntaxError {
        offset: j.location_offset(),
        len: found.1,
        kind: SyntaxKind::UnknownItem {
            found: found.0.trim_matches('`').to_string(),
        },
    }))
}

/// The words an item may start with, for "did you mean".
pub fn item_keywords() -> &'static [&'static str] {
    &ITEM_KEYWORDS
}

fn use_item(i: In, kw: Span) -> PResult<Item> {
    let (i0, _) = ws(i)?;
    let (j, target) = if i0.fragment().starts_with('"') {
        let (j, path) = string(i0)?;
        (
            j,
            UseTarget::File {
                path,
                span: span_of(&i0, &j),
            },
        )
    } else {
        let (j, name) = expect_ident(i0, "a stdlib module name or a quoted file path")?;
        (j, UseTarget::Stdlib(name))
    };
    let span = Span::new(kw.file, kw.start as usize, j.location_offset());
    Ok((j, Item::Use(Use { target, span })))
}

fn block(i: In, kw: Span) -> PResult<Item> {
    let (j, name) = expect_ident(i, "a block name")?;
    let (j, open) = match tok("(")(j) {
        Ok(r) => r,
        Err(_) => return expected(j, "`(` and the block's parameters"),
    };
    let (j, params) = comma_list(j, &open, ")", param)?;
    let (j, body) = body(j, 1)?;
    let span = Span::new(kw.file, kw.start as usize, j.location_offset());
    Ok((
        j,
        Item::Block(BlockDef {
            name,
            params,
            body,
            span,
        }),
    ))
}

fn param(i: In) -> PResult<Param> {
    let (i, _) = ws(i)?;
    let (j, name) = expect_ident(i, "a parameter name or `)`")?;
    let (j, _) = match tok(":")(j) {
        Ok(r) => r,
        Err(_) => return expected(j, "`:` and a type (int, float, bool, str, list)"),
    };
    let (j, tname) = expect_ident(j, "a type (int, float, bool, str, list)")?;
    let Some(ty) = Ty::ALL
        .iter()
        .find(|(n, _)| *n == tname.name)
        .map(|(_, t)| *t)
    else {
        return Err(nom::Err::Failure(SyntaxError {
            offset: tname.span.start as usize,
            len: tname.name.len(),
            kind: SyntaxKind::Expected {
                expected: "a type (int, float, bool, str, list)".into(),
                found: format!("`{}`", tname.name),
            },
        }));
    };
    let ty = TypeAnn {
        ty,
        span: tname.span,
    };
    let (j, default) = match tok("=")(j) {
        Ok((k, _)) => match expr(k, 1) {
            Err(nom::Err::Error(_)) => return expected(k, "a default value"),
            r => {
                let (k, e) = r?;
                (k, Some(e))
            }
        },
        Err(_) => (j, None),
    };
    Ok((
        j,
        Param {
            span: span_of(&i, &j),
            name,
            ty,
            default,
        },
    ))
}

fn data(i: In, kw: Span) -> PResult<Item> {
    let (j, name) = expect_ident(i, "a data set name")?;
    let (j, _) = expect_tok(j, "=", None)?;
    let (j, source) = match call(j, 1) {
        Err(nom::Err::Error(_)) => return expected(j, "a data source such as `gaussian_bumps(…)`"),
        r => r?,
    };
    let span = Span::new(kw.file, kw.start as usize, j.location_offset());
    Ok((j, Item::Data(DataDecl { name, source, span })))
}

fn model(i: In, kw: Span) -> PResult<Item> {
    let (j, name) = expect_ident(i, "a model name")?;
    let (j, sections) = braced(j, section)?;
    let span = Span::new(kw.file, kw.start as usize, j.location_offset());
    Ok((
        j,
        Item::Model(ModelDef {
            name,
            sections,
            span,
        }),
    ))
}

fn section(i: In) -> PResult<Section> {
    let end = |kw: Span, j: &In| Span::new(kw.file, kw.start as usize, j.location_offset());
    if let Ok((j, kw)) = keyword("input")(i) {
        let (j, shape) = match expr(j, 1) {
            Err(nom::Err::Error(_)) => return expected(j, "the input shape, as in `[1, 64, 64]`"),
            r => r?,
        };
        let span = end(kw, &j);
        return Ok((j, Section::Input { shape, span }));
    }
    if let Ok((j, kw)) = keyword("encoder")(i) {
        let (j, body) = body(j, 1)?;
        let span = end(kw, &j);
        return Ok((j, Section::Encoder { body, span }));
    }
    if let Ok((j, kw)) = keyword("decoder")(i) {
        let (j, body) = body(j, 1)?;
        let span = end(kw, &j);
        return Ok((j, Section::Decoder { body, span }));
    }
    if let Ok((j, kw)) = keyword("latent")(i) {
        let (j, op) = match call(j, 1) {
            Err(nom::Err::Error(_)) => {
                return expected(j, "a latent operator such as `svd_truncate(k = 2)`")
            }
            r => r?,
        };
        let span = end(kw, &j);
        return Ok((j, Section::Latent { op, span }));
    }
    expected(i, "`input`, `encoder`, `latent`, `decoder` or `}`")
}

fn settings(i: In, kw: Span) -> PResult<Settings> {
    let (j, entries) = braced(i, setting)?;
    let span = Span::new(kw.file, kw.start as usize, j.location_offset());
    Ok((j, Settings { entries, span }))
}

/// `key = value`.
fn setting(k: In) -> PResult<Setting> {
    let (k2, key) = expect_ident(k, "a setting name or `}`")?;
    let (k2, _) = expect_tok(k2, "=", None)?;
    let (k2, value) = match expr(k2, 1) {
        Err(nom::Err::Error(_)) => return expected(k2, "a value"),
        r => r?,
    };
    Ok((
        k2,
        Setting {
            span: span_of(&k, &k2),
            key,
            value,
        },
    ))
}
