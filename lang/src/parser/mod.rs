//! nom parsers from source text to [`crate::ast`], one function per AST variant.
//!
//! Tokens are parsed straight from the text (no separate lexer): `ws` skips blanks and
//! `# comments` before every token. Once a construct is recognised by its keyword or
//! opening delimiter, the rest of it is parsed under `cut`, so an error is reported
//! where the text stops making sense, not at the start of the item.

mod expr;
mod item;
mod stmt;
#[cfg(test)]
mod tests;

pub use item::{item_keywords, parse_module};

use crate::span::{FileId, Span};
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Input, Parser};
use nom_locate::LocatedSpan;

/// Parser input: text plus its byte offset and file.
pub type In<'a> = LocatedSpan<&'a str, FileId>;
pub(crate) type PResult<'a, T> = IResult<In<'a>, T, SyntaxError>;

/// Nesting of brackets, blocks and expressions deeper than this is refused rather than
/// risking the stack on hostile input.
pub const MAX_DEPTH: usize = 64;

/// Why parsing stopped. Converted to [`crate::Error`] with the file's id.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub offset: usize,
    pub len: usize,
    pub kind: SyntaxKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SyntaxKind {
    /// `expected` names what would have fit here.
    Expected {
        expected: String,
        found: String,
    },
    UnterminatedString,
    BadNumber {
        text: String,
        reason: String,
    },
    /// An opening delimiter at `open` whose closing one never came.
    Unclosed {
        delim: char,
        open: usize,
    },
    /// Something that is not an item where an item must start.
    UnknownItem {
        found: String,
    },
    TooDeep,
    /// Raised by nom's own combinators; replaced by a better message where it matters.
    Nom(ErrorKind),
}

impl<'a> ParseError<In<'a>> for SyntaxError {
    fn from_error_kind(input: In<'a>, kind: ErrorKind) -> Self {
        SyntaxError {
            offset: input.location_offset(),
            len: 0,
            kind: SyntaxKind::Nom(kind),
        }
    }

    fn append(_: In<'a>, _: ErrorKind, other: Self) -> Self {
        other
    }

    /// Of two failed alternatives, keep the one that got farther.
    fn or(self, other: Self) -> Self {
        if other.offset >= self.offset {
            other
        } else {
            self
        }
    }
}

impl SyntaxError {
    pub fn span(&self, file: FileId) -> Span {
        Span::new(file, self.offset, self.offset + self.len)
    }
}

pub(crate) fn span_of(start: &In, end: &In) -> Span {
    Span::new(start.extra, start.location_offset(), end.location_offset())
}

/// A hard error at `i`: no alternative is tried after it.
pub(crate) fn fail<'a, T>(i: &In<'a>, kind: SyntaxKind) -> PResult<'a, T> {
    Err(nom::Err::Failure(SyntaxError {
        offset: i.location_offset(),
        len: 0,
        kind,
    }))
}

/// "expected X, found Y" at the next token of `i` (after blanks).
pub(crate) fn expected<'a, T>(i: In<'a>, what: &str) -> PResult<'a, T> {
    let (i, _) = ws(i)?;
    let found = describe_next(&i);
    Err(nom::Err::Failure(SyntaxError {
        offset: i.location_offset(),
        len: found.1,
        kind: SyntaxKind::Expected {
            expected: what.to_string(),
            found: found.0,
        },
    }))
}

/// A short description of the token at `i`, and its length in bytes.
fn describe_next(i: &In) -> (String, usize) {
    let s = *i.fragment();
    let Some(c) = s.chars().next() else {
        return ("end of file".into(), 0);
    };
    if is_ident_start(c) {
        let n = s.find(|c: char| !is_ident_char(c)).unwrap_or(s.len());
        (format!("`{}`", &s[..n]), n)
    } else if c.is_ascii_digit() {
        let n = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(s.len());
        (format!("`{}`", &s[..n]), n)
    } else {
        (shown(c), c.len_utf8())
    }
}

/// A character as a diagnostic names it: in backquotes, or by its code point when it
/// would be invisible there (a NUL, a byte-order mark in mid-file, a zero-width space).
fn shown(c: char) -> String {
    let name = match c {
        '\0' => " (NUL)",
        '\u{feff}' => " (byte-order mark)",
        '\u{200b}' => " (zero-width space)",
        '\u{00a0}' => " (no-break space)",
        _ if c.is_control() || c.is_whitespace() || ('\u{200c}'..='\u{200f}').contains(&c) => "",
        _ => return format!("`{c}`"),
    };
    format!("the invisible character U+{:04X}{name}", c as u32)
}

pub(crate) fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Skip blanks, newlines and `#` comments.
pub(crate) fn ws(mut i: In) -> PResult<()> {
    loop {
        let s = *i.fragment();
        let trimmed = s.trim_start();
        let mut skip = s.len() - trimmed.len();
        if trimmed.starts_with('#') {
            skip += trimmed.find('\n').unwrap_or(trimmed.len());
        }
        if skip == 0 {
            return Ok((i, ()));
        }
        i = i.take_from(skip);
    }
}

/// Punctuation token after blanks: `tok("{")`.
pub(crate) fn tok<'a>(t: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, In<'a>> {
    move |i: In<'a>| {
        let (i, _) = ws(i)?;
        nom::bytes::complete::tag(t).parse(i)
    }
}

/// A keyword: the word, not followed by an identifier character.
pub(crate) fn keyword<'a>(k: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, Span> {
    move |i: In<'a>| {
        let (i, _) = ws(i)?;
        let s = *i.fragment();
        // `k` is ASCII, so once it matched, `k.len()` is a char boundary.
        let follows = s.strip_prefix(k).map(|rest| rest.chars().next());
        if let Some(follows) = follows.filter(|f| !f.is_some_and(is_ident_char)) {
            let _ = follows;
            let (rest, word) = i.take_split(k.len());
            Ok((rest, span_of(&word, &rest)))
        } else {
            Err(nom::Err::Error(SyntaxError::from_error_kind(
                i,
                ErrorKind::Tag,
            )))
        }
    }
}

/// Words that cannot name a block, constant or parameter. Item and section words
/// (`model`, `latent`, …) are only special where an item or section starts, so
/// `cnn_encoder(latent = 64)` is fine.
pub const KEYWORDS: &[&str] = &["let", "for", "in", "true", "false"];

/// An identifier that is not a keyword.
pub(crate) fn ident(i: In) -> PResult<crate::ast::Ident> {
    let (i, _) = ws(i)?;
    let s = *i.fragment();
    let n = match s.chars().next() {
        Some(c) if is_ident_start(c) => s.find(|c: char| !is_ident_char(c)).unwrap_or(s.len()),
        _ => 0,
    };
    if n == 0 || KEYWORDS.contains(&&s[..n]) {
        return Err(nom::Err::Error(SyntaxError::from_error_kind(
            i,
            ErrorKind::Alpha,
        )));
    }
    let (rest, word) = i.take_split(n);
    Ok((
        rest,
        crate::ast::Ident {
            name: word.fragment().to_string(),
            span: span_of(&word, &rest),
        },
    ))
}

/// `ident`, or a hard "expected {what}" error.
pub(crate) fn expect_ident<'a>(i: In<'a>, what: &str) -> PResult<'a, crate::ast::Ident> {
    match ident(i) {
        Ok(r) => Ok(r),
        Err(nom::Err::Error(_)) => expected(i, what),
        Err(e) => Err(e),
    }
}

/// Punctuation that must come next, else a hard error; a missing closer at end of
/// file is reported as an unclosed delimiter at its opener.
pub(crate) fn expect_tok<'a>(
    i: In<'a>,
    t: &'static str,
    opener: Option<&In>,
) -> PResult<'a, In<'a>> {
    match tok(t)(i) {
        Ok(r) => Ok(r),
        Err(nom::Err::Error(_)) => {
            let (j, _) = ws(i)?;
            if let (Some(open), true) = (opener, j.fragment().is_empty()) {
                let delim = open.fragment().chars().next().unwrap_or('(');
                return fail(
                    &j,
                    SyntaxKind::Unclosed {
                        delim,
                        open: open.location_offset(),
                    },
                );
            }
            expected(i, &format!("`{t}`"))
        }
        Err(e) => Err(e),
    }
}

/// Depth guard for recursive constructs.
pub(crate) fn check_depth<'a>(i: &In<'a>, depth: usize) -> PResult<'a, ()> {
    if depth > MAX_DEPTH {
        return Err(nom::Err::Failure(SyntaxError {
            offset: i.location_offset(),
            len: 1,
            kind: SyntaxKind::TooDeep,
        }));
    }
    Ok((*i, ()))
}

/// `{ element* }` with the element parser run at each non-`}` token; `;` may follow an
/// element. A file that ends first is an unclosed `{` at its opener.
pub(crate) fn braced<'a, T>(
    i: In<'a>,
    mut element: impl FnMut(In<'a>) -> PResult<'a, T>,
) -> PResult<'a, Vec<T>> {
    let (mut j, open) = match tok("{")(i) {
        Ok(r) => r,
        Err(_) => return expected(i, "`{`"),
    };
    let mut out = Vec::new();
    loop {
        if let Ok((k, _)) = tok("}")(j) {
            return Ok((k, out));
        }
        let (k, _) = ws(j)?;
        if k.fragment().is_empty() {
            return fail(
                &k,
                SyntaxKind::Unclosed {
                    delim: '{',
                    open: open.location_offset(),
                },
            );
        }
        let (k, e) = element(k)?;
        out.push(e);
        j = match tok(";")(k) {
            Ok((k2, _)) => k2,
            Err(_) => k,
        };
    }
}

/// `open element ("," element)* ","? close`, after `open` was consumed. A file that ends
/// first is an unclosed delimiter at `open`; otherwise the element parser reports.
pub(crate) fn comma_list<'a, T>(
    mut i: In<'a>,
    open: &In<'a>,
    close: &'static str,
    mut element: impl FnMut(In<'a>) -> PResult<'a, T>,
) -> PResult<'a, Vec<T>> {
    let mut out = Vec::new();
    loop {
        if let Ok((j, _)) = tok(close)(i) {
            return Ok((j, out));
        }
        let (start, _) = ws(i)?;
        if start.fragment().is_empty() {
            return fail(
                &start,
                SyntaxKind::Unclosed {
                    delim: open.fragment().chars().next().unwrap_or('('),
                    open: open.location_offset(),
                },
            );
        }
        let (j, e) = element(start)?;
        out.push(e);
        match tok(",")(j) {
            Ok((k, _)) => i = k,
            Err(_) => {
                let (k, _) = expect_tok(j, close, Some(open))?;
                return Ok((k, out));
            }
        }
    }
}
