//! Expressions: literals, names, lists, calls, arithmetic and indexing.
//!
//! ```text
//! expr    := term (("+" | "-") term)*
//! term    := unary (("*" | "//" | "/" | "%") unary)*
//! unary   := "-" unary | postfix
//! postfix := primary ("[" expr "]")*
//! primary := number | string | "true" | "false" | list | "(" expr ")" | call
//! call    := ident ("(" (arg ("," arg)* ","?)? ")")?
//! arg     := (ident "=")? expr
//! ```

use super::*;
use crate::ast::{Arg, BinOp, Call, Expr, ExprKind};

/// Each operator of a chain (`a + b + c`, `x[0][1]`) nests the tree one level deeper
/// (the chain folds to the left), so it counts against the depth limit like a bracket:
/// an 80 KB `1 + 1 + …` must be an error, not a stack overflow in the checker.
pub(crate) fn expr(i: In, depth: usize) -> PResult<Expr> {
    check_depth(&i, depth)?;
    let (mut i, mut lhs) = term(i, depth)?;
    let mut depth = depth;
    loop {
        let op = if let Ok((j, _)) = tok("+")(i) {
            (j, BinOp::Add)
        } else if let Ok((j, _)) = tok("-")(i) {
            (j, BinOp::Sub)
        } else {
            return Ok((i, lhs));
        };
        depth += 1;
        let (j, rhs) = cut_expr(op.0, depth, "an expression after the operator", term)?;
        let span = lhs.span.to(rhs.span);
        lhs = Expr {
            kind: ExprKind::Binary(op.1, Box::new(lhs), Box::new(rhs)),
            span,
        };
        i = j;
    }
}

fn term(i: In, depth: usize) -> PResult<Expr> {
    let (mut i, mut lhs) = unary(i, depth)?;
    let mut depth = depth;
    loop {
        let op = if let Ok((j, _)) = tok("*")(i) {
            (j, BinOp::Mul)
        } else if let Ok((j, _)) = tok("//")(i) {
            (j, BinOp::FloorDiv)
        } else if let Ok((j, _)) = tok("/")(i) {
            (j, BinOp::Div)
        } else if let Ok((j, _)) = tok("%")(i) {
            (j, BinOp::Rem)
        } else {
            return Ok((i, lhs));
        };
        depth += 1;
        let (j, rhs) = cut_expr(op.0, depth, "an expression after the operator", unary)?;
        let span = lhs.span.to(rhs.span);
        lhs = Expr {
            kind: ExprKind::Binary(op.1, Box::new(lhs), Box::new(rhs)),
            span,
        };
        i = j;
    }
}

/// Run `p`; a soft failure becomes "expected {what}".
fn cut_expr<'a>(
    i: In<'a>,
    depth: usize,
    what: &str,
    p: fn(In<'a>, usize) -> PResult<'a, Expr>,
) -> PResult<'a, Expr> {
    match p(i, depth) {
        Err(nom::Err::Error(_)) => expected(i, what),
        r => r,
    }
}

fn unary(i: In, depth: usize) -> PResult<Expr> {
    check_depth(&i, depth)?;
    let (i0, _) = ws(i)?;
    if let Ok((j, _)) = tok("-")(i0) {
        let (j, inner) = cut_expr(j, depth + 1, "an expression after `-`", unary)?;
        let span = span_of(&i0, &j).to(inner.span);
        return Ok((
            j,
            Expr {
                kind: ExprKind::Neg(Box::new(inner)),
                span,
            },
        ));
    }
    postfix(i0, depth)
}

fn postfix(i: In, depth: usize) -> PResult<Expr> {
    let (mut i, mut e) = primary(i, depth)?;
    let mut depth = depth;
    while let Ok((j, open)) = tok("[")(i) {
        depth += 1;
        check_depth(&j, depth)?;
        let (j, idx) = cut_expr(j, depth, "an index expression", expr)?;
        let (j, _) = expect_tok(j, "]", Some(&open))?;
        let span = Span::new(e.span.file, e.span.start as usize, j.location_offset());
        e = Expr {
            kind: ExprKind::Index(Box::new(e), Box::new(idx)),
            span,
        };
        i = j;
    }
    Ok((i, e))
}

fn primary(i: In, depth: usize) -> PResult<Expr> {
    let (i, _) = ws(i)?;
    let s = *i.fragment();
    let Some(c) = s.chars().next() else {
        return Err(nom::Err::Error(SyntaxError::from_error_kind(
            i,
            ErrorKind::Eof,
        )));
    };
    if c.is_ascii_digit() || (c == '.' && s[1..].starts_with(|c: char| c.is_ascii_digit())) {
        return number(i);
    }
    if c == '"' {
        let (j, text) = string(i)?;
        return Ok((
            j,
            Expr {
                kind: ExprKind::Str(text),
                span: span_of(&i, &j),
            },
        ));
    }
    if c == '[' {
        return list(i, depth);
    }
    if c == '(' {
        let (j, open) = tok("(")(i)?;
        let (j, inner) = cut_expr(j, depth + 1, "an expression", expr)?;
        let (j, _) = expect_tok(j, ")", Some(&open))?;
        return Ok((j, inner));
    }
    for (word, value) in [("true", true), ("false", false)] {
        if let Ok((j, span)) = keyword(word)(i) {
            return Ok((
                j,
                Expr {
                    kind: ExprKind::Bool(value),
                    span,
                },
            ));
        }
    }
    let (j, call) = call(i, depth)?;
    let span = call.span;
    let kind = if call.parens {
        ExprKind::Call(call)
    } else {
        ExprKind::Name(call.name.name)
    };
    Ok((j, Expr { kind, span }))
}

/// `[a, b, c]` with an optional trailing comma.
fn list(i: In, depth: usize) -> PResult<Expr> {
    let (j, open) = tok("[")(i)?;
    let (j, items) = comma_list(j, &open, "]", |k| match expr(k, depth + 1) {
        Err(nom::Err::Error(_)) => expected(k, "a list element or `]`"),
        r => r,
    })?;
    Ok((
        j,
        Expr {
            kind: ExprKind::List(items),
            span: span_of(&open, &j),
        },
    ))
}

/// `name` or `name(args)`.
pub(crate) fn call(i: In, depth: usize) -> PResult<Call> {
    let (i, _) = ws(i)?;
    let (j, name) = ident(i)?;
    // The `(` must follow the name directly (blanks allowed, not a newline), so that
    // `relu\n(…)` is never read as a call.
    let s = *j.fragment();
    let gap = s.len() - s.trim_start_matches([' ', '\t']).len();
    if !s[gap..].starts_with('(') {
        return Ok((
            j,
            Call {
                span: name.span,
                name,
                args: Vec::new(),
                parens: false,
            },
        ));
    }
    let (j, open) = tok("(")(j)?;
    let (j, args) = args(j, depth + 1, &open)?;
    Ok((
        j,
        Call {
            span: span_of(&i, &j),
            name,
            args,
            parens: true,
        },
    ))
}

fn args<'a>(i: In<'a>, depth: usize, open: &In<'a>) -> PResult<'a, Vec<Arg>> {
    check_depth(&i, depth)?;
    comma_list(i, open, ")", |start| {
        let (value_at, name) = match ident(start) {
            Ok((j, n)) => match tok("=")(j) {
                Ok((k, _)) => (k, Some(n)),
                Err(_) => (start, None),
            },
            Err(_) => (start, None),
        };
        let (j, value) = match expr(value_at, depth) {
            Err(nom::Err::Error(_)) => return expected(value_at, "an argument or `)`"),
            r => r?,
        };
        Ok((
            j,
            Arg {
                span: span_of(&start, &j),
                name,
                value,
            },
        ))
    })
}

/// A decimal integer or float: `64`, `0.2`, `1e-3`.
fn number(i: In) -> PResult<Expr> {
    let s = *i.fragment();
    let b = s.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n = digits(0);
    let mut float = false;
    if b.get(n) == Some(&b'.') && b.get(n + 1).is_some_and(u8::is_ascii_digit) {
        n += 1 + digits(n + 1);
        float = true;
    }
    if matches!(b.get(n), Some(b'e' | b'E')) {
        let mut m = n + 1;
        if matches!(b.get(m), Some(b'+' | b'-')) {
            m += 1;
        }
        let d = digits(m);
        if d == 0 {
            let end = s[n..]
                .find(|c: char| !(is_ident_char(c) || c == '+' || c == '-'))
                .map_or(s.len(), |e| n + e);
            return bad_number(i, &s[..end], "an exponent needs digits, as in `1e-3`");
        }
        n = m + d;
        float = true;
    }
    if s[n..].starts_with(is_ident_char) {
        let end = s[n..]
            .find(|c: char| !is_ident_char(c))
            .map_or(s.len(), |e| n + e);
        return bad_number(
            i,
            &s[..end],
            "a number cannot run into letters; put a space or operator between them",
        );
    }
    let text = &s[..n];
    let (rest, lit) = i.take_split(n);
    let span = span_of(&lit, &rest);
    let kind = if float {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => ExprKind::Float(v),
            _ => return bad_number(i, text, "this float does not fit in 64 bits"),
        }
    } else {
        match text.parse::<i64>() {
            Ok(v) => ExprKind::Int(v),
            Err(_) => return bad_number(i, text, "this integer does not fit in 64 bits"),
        }
    };
    Ok((rest, Expr { kind, span }))
}

fn bad_number<'a, T>(i: In<'a>, text: &str, reason: &str) -> PResult<'a, T> {
    Err(nom::Err::Failure(SyntaxError {
        offset: i.location_offset(),
        len: text.len(),
        kind: SyntaxKind::BadNumber {
            text: text.to_string(),
            reason: reason.to_string(),
        },
    }))
}

/// `"text"` with `\"`, `\\`, `\n`, `\t` escapes; no raw newlines.
pub(crate) fn string(i: In) -> PResult<String> {
    let (i, _) = ws(i)?;
    let s = *i.fragment();
    if !s.starts_with('"') {
        return Err(nom::Err::Error(SyntaxError::from_error_kind(
            i,
            ErrorKind::Char,
        )));
    }
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((i.take_from(at + 1), out)),
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some((_, '\n')) | None => break,
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e)
                }
            },
            c => out.push(c),
        }
    }
    Err(nom::Err::Failure(SyntaxError {
        offset: i.location_offset(),
        len: 1,
        kind: SyntaxKind::UnterminatedString,
    }))
}
