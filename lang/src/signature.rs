//! Operator signatures and argument binding: positional then named arguments are matched
//! to parameters, checked for type, and defaults filled in. One binder serves layers,
//! latent operators, data sources, settings and user blocks, so every call site gets the
//! same errors (unknown option, missing, too many, given twice, wrong type).

use crate::ast::Ident;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::unknown_name;
use crate::span::Span;
use crate::suggest::closest;
use crate::value::{Env, Value};

/// What a parameter accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArgTy {
    Int,
    Float,
    Bool,
    Str,
    /// A list of ints, e.g. a shape.
    IntList,
    /// `3` or `[3, 5]`, for 2-D kernel sizes, strides and paddings.
    IntOrPair,
    /// One of these words, written bare (`adam`) or quoted.
    Word(&'static [&'static str]),
    /// An int or one of these words (`k = 2` or `k = adaptive`).
    IntOrWord(&'static [&'static str]),
    /// One of these words, bare or called with options (`step(every = 500)`).
    WordOrCall(&'static [&'static str]),
    /// The name of a `data` declaration.
    DataRef,
}

impl ArgTy {
    pub fn describe(self) -> String {
        let words = |w: &[&str]| {
            w.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            ArgTy::Int => "an int".into(),
            ArgTy::Float => "a number".into(),
            ArgTy::Bool => "`true` or `false`".into(),
            ArgTy::Str => "a string".into(),
            ArgTy::IntList => "a list of ints".into(),
            ArgTy::IntOrPair => "an int or a list of two ints".into(),
            ArgTy::Word(w) | ArgTy::WordOrCall(w) => format!("one of {}", words(w)),
            ArgTy::IntOrWord(w) => format!("an int or {}", words(w)),
            ArgTy::DataRef => "the name of a data set".into(),
        }
    }
}

/// A parameter's default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dflt {
    /// Must be given.
    Required,
    /// May be left out; the consumer decides what absence means.
    Absent,
    Int(i64),
    Float(f64),
    Bool(bool),
    Word(&'static str),
}

/// A parameter row of a catalog table.
pub const fn p(name: &'static str, ty: ArgTy, default: Dflt, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        default,
        doc,
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ArgTy,
    pub default: Dflt,
    pub doc: &'static str,
}

/// A builtin operator, data source or settings section.
#[derive(Clone, Copy, Debug)]
pub struct OpSpec {
    pub name: &'static str,
    pub params: &'static [ParamSpec],
    /// How many leading parameters may be given by position.
    pub positional: usize,
    pub doc: &'static str,
}

/// A call's arguments after binding: one entry per parameter, in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    pub op: String,
    pub span: Span,
    /// `(parameter, value, span of the argument)`; `None` when absent without default.
    pub values: Vec<(&'static str, Option<(Value, Span)>)>,
    /// Which parameters were written at the call site (not defaulted).
    pub given: Vec<bool>,
    /// Settings whose value is a constructor (`optimizer = adam(beta1 = 0.8)`, or the
    /// bare `adam`), bound against its catalog row: its arguments with defaults.
    pub calls: Vec<(&'static str, Bound)>,
}

impl Bound {
    /// The bound constructor of setting `name`, if its value is one.
    pub fn call(&self, name: &str) -> Option<&Bound> {
        self.calls.iter().find(|(n, _)| *n == name).map(|(_, b)| b)
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_ref().map(|(v, _)| v))
    }

    /// The argument's span, or the call's when it was defaulted.
    pub fn span(&self, name: &str) -> Span {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_ref().map(|(_, s)| *s))
            .unwrap_or(self.span)
    }

    pub fn given(&self, name: &str) -> bool {
        self.values
            .iter()
            .zip(&self.given)
            .any(|((n, _), g)| *n == name && *g)
    }

    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Some(Value::Int(v)) => *v,
            _ => 0,
        }
    }

    pub fn float(&self, name: &str) -> f64 {
        self.get(name).and_then(Value::as_f64).unwrap_or(0.0)
    }

    pub fn bool(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Bool(true)))
    }

    /// A word argument (`adam`, `"adam"`), or the name of a called one (`step(…)`).
    pub fn word(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Symbol(s) | Value::Str(s) | Value::Call(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// `[a, b]` for an int-or-pair argument.
    pub fn pair(&self, name: &str) -> [i64; 2] {
        match self.get(name) {
            Some(Value::Int(v)) => [*v, *v],
            Some(Value::List(l)) => {
                let g = |i: usize| match l.get(i) {
                    Some(Value::Int(v)) => *v,
                    _ => 0,
                };
                [g(0), g(1)]
            }
            _ => [0, 0],
        }
    }

    pub fn int_list(&self, name: &str) -> Vec<i64> {
        match self.get(name) {
            Some(Value::List(l)) => l
                .iter()
                .map(|v| match v {
                    Value::Int(i) => *i,
                    _ => 0,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// One evaluated argument at a call site.
pub struct ArgIn<'a> {
    pub name: Option<&'a Ident>,
    pub value: Value,
    pub span: Span,
}

/// Match arguments to parameter names: returns, per parameter, the index of its argument.
pub fn match_args(
    op: &str,
    names: &[&str],
    positional: usize,
    args: &[ArgIn],
    call_span: Span,
    required: &[bool],
    types: &[String],
) -> Result<Vec<Option<usize>>> {
    let mut slot: Vec<Option<usize>> = vec![None; names.len()];
    let mut pos = 0;
    for (k, a) in args.iter().enumerate() {
        let p = match a.name {
            None => {
                if pos >= positional {
                    return Err(ErrorKind::TooManyArguments {
                        span: a.span,
                        op: op.into(),
                        max: positional,
                        given: args.iter().filter(|a| a.name.is_none()).count(),
                    }
                    .into());
                }
                pos += 1;
                pos - 1
            }
            Some(n) => match names.iter().position(|p| *p == n.name) {
                Some(p) => p,
                None => {
                    return Err(ErrorKind::UnknownOption {
                        span: n.span,
                        op: op.into(),
                        option: n.name.clone(),
                        suggestion: closest(&n.name, names.iter().copied()),
                        allowed: names.iter().map(|s| s.to_string()).collect(),
                    }
                    .into())
                }
            },
        };
        if let Some(first) = slot[p] {
            return Err(ErrorKind::DuplicateArgument {
                span: a.span,
                first: args[first].span,
                op: op.into(),
                param: names[p].into(),
            }
            .into());
        }
        slot[p] = Some(k);
    }
    for (p, s) in slot.iter().enumerate() {
        if s.is_none() && required[p] {
            return Err(ErrorKind::MissingArgument {
                span: call_span,
                op: op.into(),
                param: names[p].into(),
                ty: types[p].clone(),
            }
            .into());
        }
    }
    Ok(slot)
}

/// Bind a call's arguments to a builtin signature.
pub fn bind(spec: &OpSpec, args: Vec<ArgIn>, call_span: Span, env: &Env) -> Result<Bound> {
    let names: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
    let required: Vec<bool> = spec
        .params
        .iter()
        .map(|p| p.default == Dflt::Required)
        .collect();
    let types: Vec<String> = spec.params.iter().map(|p| p.ty.describe()).collect();
    let slots = match_args(
        spec.name,
        &names,
        spec.positional,
        &args,
        call_span,
        &required,
        &types,
    )?;
    let mut args: Vec<Option<ArgIn>> = args.into_iter().map(Some).collect();
    let mut values = Vec::with_capacity(spec.params.len());
    let mut given = Vec::with_capacity(spec.params.len());
    for (p, slot) in spec.params.iter().zip(slots) {
        let v = match slot.and_then(|k| args[k].take()) {
            Some(a) => {
                let v = check_type(spec.name, p, a.value, a.span, env)?;
                given.push(true);
                Some((v, a.span))
            }
            None => {
                given.push(false);
                let d = match p.default {
                    Dflt::Required | Dflt::Absent => None,
                    Dflt::Int(v) => Some(Value::Int(v)),
                    Dflt::Float(v) => Some(Value::Float(v)),
                    Dflt::Bool(v) => Some(Value::Bool(v)),
                    Dflt::Word(w) => Some(Value::Symbol(w.into())),
                };
                d.map(|v| (v, call_span))
            }
        };
        values.push((p.name, v));
    }
    Ok(Bound {
        op: spec.name.into(),
        span: call_span,
        values,
        given,
        calls: Vec::new(),
    })
}

fn mismatch(op: &str, p: &ParamSpec, v: &Value, span: Span, env: &Env) -> Error {
    if let Value::Symbol(n) = v {
        return unknown_name(span, n, env);
    }
    ErrorKind::TypeMismatch {
        span,
        what: format!("`{}` of `{op}`", p.name),
        expected: p.ty.describe(),
        found: v.describe(),
    }
    .into()
}

fn bad_word(op: &str, p: &ParamSpec, word: &str, allowed: &[&str], span: Span) -> Error {
    let hint = closest(word, allowed.iter().copied())
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    ErrorKind::InvalidValue {
        span,
        what: format!("`{}` of `{op}`", p.name),
        value: format!("`{word}`"),
        reason: format!("expected {}{hint}", p.ty.describe()),
    }
    .into()
}

fn check_type(op: &str, p: &ParamSpec, v: Value, span: Span, env: &Env) -> Result<Value> {
    let is_int_list = |l: &[Value]| l.iter().all(|x| matches!(x, Value::Int(_)));
    let ok = match (&p.ty, &v) {
        (ArgTy::Int, Value::Int(_)) => true,
        (ArgTy::Float, Value::Int(i)) => return Ok(Value::Float(*i as f64)),
        (ArgTy::Float, Value::Float(_)) => true,
        (ArgTy::Bool, Value::Bool(_)) => true,
        (ArgTy::Str, Value::Str(_)) => true,
        (ArgTy::IntList, Value::List(l)) => is_int_list(l),
        (ArgTy::IntOrPair, Value::Int(_)) => true,
        (ArgTy::IntOrPair, Value::List(l)) => l.len() == 2 && is_int_list(l),
        (ArgTy::IntOrWord(_), Value::Int(_)) => true,
        (
            ArgTy::Word(w) | ArgTy::IntOrWord(w) | ArgTy::WordOrCall(w),
            Value::Symbol(s) | Value::Str(s),
        ) => {
            if w.contains(&s.as_str()) {
                return Ok(Value::Symbol(s.clone()));
            }
            if let (Value::Symbol(_), ArgTy::IntOrWord(_)) = (&v, p.ty) {
                if let Some(sug) = closest(s, env.names()) {
                    return Err(ErrorKind::UnknownName {
                        span,
                        name: s.clone(),
                        suggestion: Some(sug),
                    }
                    .into());
                }
            }
            return Err(bad_word(op, p, s, w, span));
        }
        (ArgTy::WordOrCall(w), Value::Call(s, _)) => {
            if w.contains(&s.as_str()) {
                true
            } else {
                return Err(bad_word(op, p, s, w, span));
            }
        }
        (ArgTy::DataRef, Value::Symbol(_)) => true,
        _ => false,
    };
    if ok {
        Ok(v)
    } else {
        Err(mismatch(op, p, &v, span, env))
    }
}
