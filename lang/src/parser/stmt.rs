//! Layer sequences: the bodies of `encoder`, `decoder` and `block`.
//!
//! ```text
//! body := "{" (stmt ";"?)* "}"
//! stmt := "let" ident "=" expr | "for" ident "in" expr body | call
//! ```

use super::expr::{call, expr};
use super::*;
use crate::ast::{For, Let, Stmt};

/// `{ stmt* }`; `open` must be the next token.
pub(crate) fn body(i: In, depth: usize) -> PResult<Vec<Stmt>> {
    check_depth(&i, depth)?;
    braced(i, |j| stmt(j, depth + 1))
}

fn stmt(i: In, depth: usize) -> PResult<Stmt> {
    if let Ok((j, kw)) = keyword("let")(i) {
        let (j, l) = let_rest(j, kw)?;
        return Ok((j, Stmt::Let(l)));
    }
    if let Ok((j, kw)) = keyword("for")(i) {
        let (j, var) = expect_ident(j, "a loop variable name")?;
        let (j, _) = match keyword("in")(j) {
            Ok(r) => r,
            Err(_) => return expected(j, "`in`"),
        };
        let (j, iter) = match expr(j, depth + 1) {
            Err(nom::Err::Error(_)) => return expected(j, "a list to loop over"),
            r => r?,
        };
        let (j, body) = body(j, depth + 1)?;
        let span = Span::new(kw.file, kw.start as usize, j.location_offset());
        return Ok((
            j,
            Stmt::For(For {
                var,
                iter,
                body,
                span,
            }),
        ));
    }
    match call(i, depth) {
        Ok((j, c)) => Ok((j, Stmt::Layer(c))),
        Err(nom::Err::Error(_)) => expected(i, "a layer, `let`, `for` or `}`"),
        Err(e) => Err(e),
    }
}

/// `name = expr` after the `let` keyword.
pub(crate) fn let_rest(i: In, kw: Span) -> PResult<Let> {
    let (j, name) = expect_ident(i, "a name after `let`")?;
    let (j, _) = expect_tok(j, "=", None)?;
    let (j, value) = match expr(j, 1) {
        Err(nom::Err::Error(_)) => return expected(j, "an expression"),
        r => r?,
    };
    let span = Span::new(kw.file, kw.start as usize, j.location_offset());
    Ok((j, Let { name, value, span }))
}
