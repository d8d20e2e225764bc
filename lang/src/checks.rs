//! The argument checks layers, latent operators and settings share: a leaf module, so
//! that each of them can use it without reaching into shape inference (which calls
//! them).

use crate::error::{Error, ErrorKind, Result};
use crate::signature::Bound;
use crate::span::Span;
use crate::value::Value;

/// Tensors and parameter counts above this are refused (and cannot overflow).
pub const MAX_ELEMENTS: usize = 1 << 40;

/// "`what` is too large", at `span`.
pub fn too_large(span: Span, what: &str) -> Error {
    ErrorKind::TooLarge {
        span,
        what: what.into(),
    }
    .into()
}

/// Argument `name` of `b` (an integer or a pair of them, if given) is at least `min`
/// and not absurdly large.
pub fn positive(b: &Bound, name: &str, min: i64) -> Result<()> {
    let vals: Vec<i64> = match b.get(name) {
        Some(Value::List(_)) => b.pair(name).to_vec(),
        Some(Value::Int(v)) => vec![*v],
        _ => return Ok(()),
    };
    for v in vals {
        if v < min {
            return Err(ErrorKind::InvalidValue {
                span: b.span(name),
                what: format!("`{name}` of `{}`", b.op),
                value: v.to_string(),
                reason: if min == 0 {
                    format!("`{name}` cannot be negative")
                } else {
                    format!("`{name}` must be at least {min}")
                },
            }
            .into());
        }
        if v > (1 << 30) {
            return Err(too_large(b.span(name), &format!("`{name}` of `{}`", b.op)));
        }
    }
    Ok(())
}

/// `parts` multiplied, refused past [`MAX_ELEMENTS`].
pub fn checked_params(parts: &[usize], span: Span) -> Result<usize> {
    let mut p: usize = 1;
    for x in parts {
        p = p
            .checked_mul(*x)
            .filter(|v| *v <= MAX_ELEMENTS)
            .ok_or_else(|| too_large(span, "the layer's parameter count"))?;
    }
    Ok(p)
}

/// Whether a tensor of `dims` would hold more than [`MAX_ELEMENTS`] values.
pub fn too_many(dims: &[usize]) -> bool {
    dims.iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .is_none_or(|n| n > MAX_ELEMENTS)
}
