//! Constant evaluation of expressions at check time: arithmetic, lists, indexing and
//! the builtin size functions blocks use to compute layer sizes (the paper's decoder
//! derives its first spatial size and final kernel from the requested output).

use crate::ast::{BinOp, Expr, ExprKind};
use crate::error::{ErrorKind, Result};
use crate::span::Span;
use crate::suggest::closest;
use crate::value::{Env, Value};

/// Builtin functions callable in expressions, with their documentation line.
pub const BUILTINS: &[(&str, &str)] = &[
    ("ceil", "ceil(x): smallest int ≥ x"),
    ("floor", "floor(x): largest int ≤ x"),
    ("round", "round(x): nearest int"),
    ("min", "min(a, b, …)"),
    ("max", "max(a, b, …)"),
    ("len", "len(list)"),
    ("prod", "prod(list): product of the elements"),
    ("conv_out", "conv_out(size, kernel, stride, padding, dilation): output size of a convolution"),
    ("convt_out", "convt_out(size, kernel, stride, padding, output_padding, dilation, times): output size after `times` transposed convolutions"),
    ("convt_in", "convt_in(size, kernel, stride, padding, output_padding, dilation, times): smallest input size that `times` transposed convolutions grow to at least `size`"),
];

pub fn unknown_name(span: Span, name: &str, env: &Env) -> crate::error::Error {
    ErrorKind::UnknownName {
        span,
        name: name.to_string(),
        suggestion: closest(name, env.names()),
    }
    .into()
}

pub fn eval(e: &Expr, env: &Env) -> Result<Value> {
    Ok(match &e.kind {
        ExprKind::Int(v) => Value::Int(*v),
        ExprKind::Float(v) => Value::Float(*v),
        ExprKind::Bool(v) => Value::Bool(*v),
        ExprKind::Str(s) => Value::Str(s.clone()),
        ExprKind::Name(n) => env
            .get(n)
            .cloned()
            .unwrap_or_else(|| Value::Symbol(n.clone())),
        ExprKind::List(items) => Value::List(
            items
                .iter()
                .map(|x| eval(x, env))
                .collect::<Result<Vec<_>>>()?,
        ),
        ExprKind::Call(c) => {
            let args = c
                .args
                .iter()
                .map(|a| {
                    Ok((
                        a.name.as_ref().map(|n| n.name.clone()),
                        eval(&a.value, env)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            if BUILTINS.iter().any(|(n, _)| *n == c.name.name) {
                let spans: Vec<Span> = c.args.iter().map(|a| a.span).collect();
                builtin(&c.name.name, c.span, &args, &spans, env)?
            } else {
                Value::Call(c.name.name.clone(), args)
            }
        }
        ExprKind::Neg(x) => match number(x, eval(x, env)?, env, "operand of `-`")? {
            Num::I(v) => Value::Int(v.checked_neg().ok_or_else(|| overflow(e.span))?),
            Num::F(v) => Value::Float(-v),
        },
        ExprKind::Binary(op, a, b) => {
            let va = eval(a, env)?;
            let vb = eval(b, env)?;
            binary(*op, e.span, (a, va), (b, vb), env)?
        }
        ExprKind::Index(list, idx) => {
            let lv = eval(list, env)?;
            let iv = eval(idx, env)?;
            let Value::List(items) = lv else {
                return Err(not_a(list, &lv, env, "the indexed value", "a list")?);
            };
            let Value::Int(i) = iv else {
                return Err(not_a(idx, &iv, env, "an index", "an int")?);
            };
            let n = items.len() as i64;
            let at = if i < 0 { n + i } else { i };
            if at < 0 || at >= n {
                return Err(ErrorKind::Evaluation {
                    span: idx.span,
                    reason: format!("index {i} is out of range for a list of {n}"),
                }
                .into());
            }
            items[at as usize].clone()
        }
    })
}

enum Num {
    I(i64),
    F(f64),
}

fn overflow(span: Span) -> crate::error::Error {
    ErrorKind::Evaluation {
        span,
        reason: "integer overflow".into(),
    }
    .into()
}

/// A float result that is infinite or NaN (`1e308 * 10`, `0.0 / 0.0` aside).
fn float_overflow(span: Span) -> crate::error::Error {
    ErrorKind::Evaluation {
        span,
        reason: "the result is too large for a float (beyond ±1.8e308)".into(),
    }
    .into()
}

/// The error for a value of the wrong kind; an unbound name gets "unknown name".
fn not_a(
    e: &Expr,
    v: &Value,
    env: &Env,
    what: &str,
    expected: &str,
) -> Result<crate::error::Error> {
    if let Value::Symbol(n) = v {
        return Ok(unknown_name(e.span, n, env));
    }
    Ok(ErrorKind::TypeMismatch {
        span: e.span,
        what: what.to_string(),
        expected: expected.to_string(),
        found: v.describe(),
    }
    .into())
}

fn number(e: &Expr, v: Value, env: &Env, what: &str) -> Result<Num> {
    match v {
        Value::Int(i) => Ok(Num::I(i)),
        Value::Float(f) => Ok(Num::F(f)),
        other => Err(not_a(e, &other, env, what, "a number")?),
    }
}

fn binary(op: BinOp, span: Span, a: (&Expr, Value), b: (&Expr, Value), env: &Env) -> Result<Value> {
    if let (BinOp::Add, Value::List(x), Value::List(y)) = (op, &a.1, &b.1) {
        return Ok(Value::List(x.iter().chain(y).cloned().collect()));
    }
    let what = format!("operand of `{}`", op.symbol());
    let x = number(a.0, a.1, env, &what)?;
    let y = number(b.0, b.1, env, &what)?;
    let div0 = || -> crate::error::Error {
        ErrorKind::Evaluation {
            span,
            reason: "division by zero".into(),
        }
        .into()
    };
    Ok(match (x, y) {
        (Num::I(x), Num::I(y)) => match op {
            BinOp::Add => Value::Int(x.checked_add(y).ok_or_else(|| overflow(span))?),
            BinOp::Sub => Value::Int(x.checked_sub(y).ok_or_else(|| overflow(span))?),
            BinOp::Mul => Value::Int(x.checked_mul(y).ok_or_else(|| overflow(span))?),
            BinOp::Div if y == 0 => return Err(div0()),
            BinOp::Div => Value::Float(x as f64 / y as f64),
            BinOp::FloorDiv | BinOp::Rem if y == 0 => return Err(div0()),
            BinOp::FloorDiv => Value::Int(x.checked_div_euclid(y).ok_or_else(|| overflow(span))?),
            BinOp::Rem => Value::Int(x.checked_rem_euclid(y).ok_or_else(|| overflow(span))?),
        },
        (x, y) => {
            let f = |n: Num| match n {
                Num::I(v) => v as f64,
                Num::F(v) => v,
            };
            let (x, y) = (f(x), f(y));
            let r = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div | BinOp::FloorDiv | BinOp::Rem if y == 0.0 => return Err(div0()),
                BinOp::Div => x / y,
                BinOp::FloorDiv => (x / y).floor(),
                BinOp::Rem => x.rem_euclid(y),
            };
            if !r.is_finite() {
                return Err(float_overflow(span));
            }
            Value::Float(r)
        }
    })
}

fn builtin(
    name: &str,
    span: Span,
    args: &[(Option<String>, Value)],
    spans: &[Span],
    env: &Env,
) -> Result<Value> {
    if let Some(i) = args.iter().position(|(n, _)| n.is_some()) {
        return Err(ErrorKind::InvalidValue {
            span: spans[i],
            what: format!("argument to builtin `{name}`"),
            value: "a named argument".into(),
            reason: "builtin functions take positional arguments only".into(),
        }
        .into());
    }
    let vals: Vec<&Value> = args.iter().map(|(_, v)| v).collect();
    let arity = |lo: usize, hi: usize| -> Result<()> {
        if vals.len() > hi {
            return Err(ErrorKind::TooManyArguments {
                span: spans[hi],
                op: name.into(),
                max: hi,
                given: vals.len(),
            }
            .into());
        }
        if vals.len() < lo {
            return Err(ErrorKind::MissingArgument {
                span,
                op: name.into(),
                param: format!("argument {}", vals.len() + 1),
                ty: "a number".into(),
            }
            .into());
        }
        Ok(())
    };
    let num = |k: usize| -> Result<f64> {
        match vals[k] {
            Value::Int(v) => Ok(*v as f64),
            Value::Float(v) => Ok(*v),
            Value::Symbol(n) => Err(unknown_name(spans[k], n, env)),
            other => Err(ErrorKind::TypeMismatch {
                span: spans[k],
                what: format!("argument {} of `{name}`", k + 1),
                expected: "a number".into(),
                found: other.describe(),
            }
            .into()),
        }
    };
    let int = |k: usize, default: i64| -> Result<i64> {
        if k >= vals.len() {
            return Ok(default);
        }
        match vals[k] {
            Value::Int(v) => Ok(*v),
            Value::Symbol(n) => Err(unknown_name(spans[k], n, env)),
            other => Err(ErrorKind::TypeMismatch {
                span: spans[k],
                what: format!("argument {} of `{name}`", k + 1),
                expected: "an int".into(),
                found: other.describe(),
            }
            .into()),
        }
    };
    let to_int = |f: f64| -> Result<Value> {
        if f.is_finite() && f.abs() < 9.0e15 {
            Ok(Value::Int(f as i64))
        } else {
            Err(ErrorKind::Evaluation {
                span,
                reason: format!("{f} is too large to convert to an int (at most 9e15)"),
            }
            .into())
        }
    };
    let list = |k: usize| -> Result<&Vec<Value>> {
        match vals[k] {
            Value::List(v) => Ok(v),
            other => Err(ErrorKind::TypeMismatch {
                span: spans[k],
                what: format!("argument of `{name}`"),
                expected: "a list".into(),
                found: other.describe(),
            }
            .into()),
        }
    };
    match name {
        "ceil" | "floor" | "round" => {
            arity(1, 1)?;
            let x = num(0)?;
            to_int(match name {
                "ceil" => x.ceil(),
                "floor" => x.floor(),
                _ => x.round(),
            })
        }
        "min" | "max" => {
            arity(1, usize::MAX)?;
            let mut best = vals[0].clone();
            let mut best_x = num(0)?;
            for (k, v) in vals.iter().enumerate().skip(1) {
                let x = num(k)?;
                if (name == "min" && x < best_x) || (name == "max" && x > best_x) {
                    best = (*v).clone();
                    best_x = x;
                }
            }
            Ok(best)
        }
        "len" => {
            arity(1, 1)?;
            Ok(Value::Int(list(0)?.len() as i64))
        }
        "prod" => {
            arity(1, 1)?;
            let mut p: i64 = 1;
            for v in list(0)? {
                let Value::Int(x) = v else {
                    return Err(ErrorKind::TypeMismatch {
                        span: spans[0],
                        what: "element of `prod`'s list".into(),
                        expected: "an int".into(),
                        found: v.describe(),
                    }
                    .into());
                };
                p = p.checked_mul(*x).ok_or_else(|| overflow(span))?;
            }
            Ok(Value::Int(p))
        }
        "conv_out" => {
            arity(2, 5)?;
            let (n, k, s, p, d) = (int(0, 0)?, int(1, 0)?, int(2, 1)?, int(3, 0)?, int(4, 1)?);
            if s <= 0 {
                return Err(ErrorKind::Evaluation {
                    span,
                    reason: "stride must be positive".into(),
                }
                .into());
            }
            Ok(Value::Int((n + 2 * p - d * (k - 1) - 1).div_euclid(s) + 1))
        }
        "convt_out" => {
            arity(2, 7)?;
            let (n, k, s, p, op, d, t) = (
                int(0, 0)?,
                int(1, 0)?,
                int(2, 1)?,
                int(3, 0)?,
                int(4, 0)?,
                int(5, 1)?,
                int(6, 1)?,
            );
            if !(0..=64).contains(&t) {
                return Err(ErrorKind::Evaluation {
                    span,
                    reason: "convt_out needs 0 ≤ times ≤ 64".into(),
                }
                .into());
            }
            let mut size = n;
            for _ in 0..t {
                size = size
                    .checked_sub(1)
                    .and_then(|x| x.checked_mul(s))
                    .and_then(|x| x.checked_add(d.checked_mul(k - 1)? + op + 1 - 2 * p))
                    .ok_or_else(|| overflow(span))?;
            }
            Ok(Value::Int(size))
        }
        "convt_in" => {
            arity(2, 7)?;
            let (n, k, s, p, op, d, t) = (
                int(0, 0)?,
                int(1, 0)?,
                int(2, 1)?,
                int(3, 0)?,
                int(4, 0)?,
                int(5, 1)?,
                int(6, 1)?,
            );
            if s <= 0 || !(0..=64).contains(&t) {
                return Err(ErrorKind::Evaluation {
                    span,
                    reason: "convt_in needs stride > 0 and 0 ≤ times ≤ 64".into(),
                }
                .into());
            }
            // The authors' `prev_D_CNN_trans`: invert size = (D−1)s − 2p + d(k−1) + op + 1,
            // in real numbers, rounding up once at the end as the authors do.
            let mut size = n as f64;
            for _ in 0..t {
                size = (size + 2.0 * p as f64 - d as f64 * (k as f64 - 1.0) - 1.0 - op as f64)
                    / s as f64
                    + 1.0;
            }
            to_int(size.ceil())
        }
        _ => Err(ErrorKind::Evaluation {
            span,
            reason: format!("`{name}` is not a builtin"),
        }
        .into()),
    }
}
