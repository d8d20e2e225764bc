//! Values of evaluated expressions, and the environment names resolve in.

use crate::ast::Ty;
use crate::span::Span;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    List(Vec<Value>),
    /// A bare name that is not bound: meaningful where a setting takes a word
    /// (`k = adaptive`, `optimizer = adam`), an error elsewhere.
    Symbol(String),
    /// A constructor call such as `step(every = 500, gamma = 0.5)`: interpreted by the
    /// setting that receives it.
    Call(String, Vec<(Option<String>, Value)>),
}

impl Value {
    /// A short description for error messages: "int 3", "symbol `adam`".
    pub fn describe(&self) -> String {
        match self {
            Value::Int(v) => format!("int {v}"),
            Value::Float(v) => format!("float {v}"),
            Value::Bool(v) => format!("bool {v}"),
            Value::Str(s) => format!("string {s:?}"),
            Value::List(_) => format!("list {self}"),
            Value::Symbol(s) => format!("name `{s}`"),
            Value::Call(n, _) => format!("call `{n}(…)`"),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            _ => None,
        }
    }

    /// Whether a value fits a block parameter's declared type (ints widen to float).
    pub fn fits(&self, ty: Ty) -> bool {
        matches!(
            (ty, self),
            (Ty::Int, Value::Int(_))
                | (Ty::Float, Value::Int(_) | Value::Float(_))
                | (Ty::Bool, Value::Bool(_))
                | (Ty::Str, Value::Str(_))
                | (Ty::List, Value::List(_))
        )
    }

    /// Ints widen to floats when a float parameter receives them.
    pub fn coerce(self, ty: Ty) -> Value {
        match (ty, self) {
            (Ty::Float, Value::Int(v)) => Value::Float(v as f64),
            (_, v) => v,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{}", fmt_float(*v)),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Symbol(s) => write!(f, "{s}"),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Value::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, (n, v)) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    match n {
                        Some(n) => write!(f, "{n} = {v}")?,
                        None => write!(f, "{v}")?,
                    }
                }
                write!(f, ")")
            }
        }
    }
}

/// Floats print so that they read back as floats: `0.2`, `1e-3`, `2.0`.
pub fn fmt_float(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        let s = format!("{v:e}");
        return s;
    }
    let s = format!("{v}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

/// A lexical scope: names bound to values, innermost last.
#[derive(Clone, Debug, Default)]
pub struct Env {
    bindings: Vec<(String, Value, Span)>,
}

impl Env {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn bind(&mut self, name: &str, value: Value, span: Span) {
        self.bindings.push((name.to_string(), value, span));
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.bindings
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v)
    }

    /// Where a name was bound in this very scope level (for duplicate checks).
    pub fn defined_at(&self, name: &str) -> Option<Span> {
        self.bindings
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, s)| *s)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.bindings.iter().map(|(n, _, _)| n.as_str())
    }

    /// Number of bindings, to restore a scope after a `for` body.
    pub fn mark(&self) -> usize {
        self.bindings.len()
    }

    pub fn truncate(&mut self, mark: usize) {
        self.bindings.truncate(mark);
    }
}
