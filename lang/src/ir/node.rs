//! One layer of the IR, `%id = op(%id-1) : input -> output`, and the line format the
//! layers and the latent node share.

use crate::layer::Op;
use crate::shape::Shape;
use crate::span::Span;
use std::fmt;

/// One layer: `%id = op(%id-1) : input -> output`.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: usize,
    pub op: Op,
    pub input: Shape,
    pub output: Shape,
    pub params: usize,
    pub span: Span,
    /// Block calls it was expanded from, outermost first.
    pub trace: Vec<(Span, String)>,
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One IR line as `rrae check` prints it: `%id = op %prev : shape  params n`, the id
/// and the operation padded into columns when `padded`.
pub(crate) fn ir_line(
    id: usize,
    op: &dyn fmt::Display,
    output: &dyn fmt::Display,
    params: usize,
    padded: bool,
) -> String {
    let prev = if id == 0 {
        "%input".to_string()
    } else {
        format!("%{}", id - 1)
    };
    let op = format!("{op} {prev}");
    let params = if params > 0 {
        format!("  params {}", thousands(params))
    } else {
        String::new()
    };
    if padded {
        format!("%{id:<3} = {op:<64} : {output}{params}")
    } else {
        format!("%{id} = {op} : {output}{params}")
    }
}

impl Node {
    /// This layer's line of `rrae check`, without the column padding.
    pub fn line(&self) -> String {
        ir_line(self.id, &self.op, &self.output, self.params, false)
    }

    pub(crate) fn padded_line(&self) -> String {
        ir_line(self.id, &self.op, &self.output, self.params, true)
    }
}
