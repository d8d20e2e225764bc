//! The canonical layout of a `.rrae` file (`rrae fmt`): four-space indentation, one
//! statement per line, `name = value` settings, canonical spacing in expressions.
//! Comments are kept: each is printed before the first construct that starts after it,
//! or at the end of the line of the construct it trails.

use crate::ast::*;
use crate::span::Span;

struct Comment {
    offset: usize,
    text: String,
    /// Whether code precedes it on its line (a trailing comment).
    trailing: bool,
}

fn comments(src: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut in_str = false;
    let mut line_has_code = false;
    let mut it = src.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\n' => {
                in_str = false;
                line_has_code = false;
            }
            '"' => {
                in_str = !in_str;
                line_has_code = true;
            }
            '\\' if in_str => {
                it.next();
            }
            '#' if !in_str => {
                let end = src[i..].find('\n').map_or(src.len(), |e| i + e);
                out.push(Comment {
                    offset: i,
                    text: src[i..end].trim_end().to_string(),
                    trailing: line_has_code,
                });
                while it.peek().is_some_and(|(j, _)| *j < end) {
                    it.next();
                }
            }
            c if !c.is_whitespace() => line_has_code = true,
            _ => {}
        }
    }
    out
}

struct Printer<'a> {
    src: &'a str,
    comments: Vec<Comment>,
    next: usize,
    out: String,
}

impl Printer<'_> {
    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("    ");
        }
    }

    /// Own-line comments that come before `offset`.
    fn leading(&mut self, offset: usize, depth: usize) {
        while self.next < self.comments.len() && self.comments[self.next].offset < offset {
            let c = &self.comments[self.next];
            let (text, end) = (c.text.clone(), c.offset + c.text.len());
            self.indent(depth);
            self.out.push_str(&text);
            self.out.push('\n');
            self.next += 1;
            // Keep one blank line where the source had one after the comment.
            let until = self
                .comments
                .get(self.next)
                .map_or(offset, |n| n.offset.min(offset));
            let gap = self.src.get(end..until.max(end)).unwrap_or("");
            if gap.matches('\n').count() >= 2 && gap.trim().is_empty() {
                self.out.push('\n');
            }
        }
    }

    /// A trailing comment on the line where `span` ends, then the newline.
    fn end_line(&mut self, span: Span) {
        let line_end = self.src[span.end as usize..]
            .find('\n')
            .map_or(self.src.len(), |e| span.end as usize + e);
        if self.next < self.comments.len() {
            let c = &self.comments[self.next];
            if c.trailing && c.offset >= span.end as usize && c.offset < line_end {
                self.out.push_str("  ");
                self.out.push_str(&c.text.clone());
                self.next += 1;
            }
        }
        self.out.push('\n');
    }

    fn line(&mut self, depth: usize, text: &str, span: Span) {
        self.leading(span.start as usize, depth);
        self.indent(depth);
        self.out.push_str(text);
        self.end_line(span);
    }

    fn body(&mut self, stmts: &[Stmt], depth: usize, close: usize) {
        for s in stmts {
            match s {
                Stmt::Let(l) => self.line(
                    depth,
                    &format!("let {} = {}", l.name.name, self.expr(&l.value)),
                    l.span,
                ),
                Stmt::Layer(c) => self.line(depth, &self.call(c), c.span),
                Stmt::For(f) => {
                    let head = format!("for {} in {} {{", f.var.name, self.expr(&f.iter));
                    self.leading(f.span.start as usize, depth);
                    self.indent(depth);
                    self.out.push_str(&head);
                    self.out.push('\n');
                    self.body(&f.body, depth + 1, f.span.end as usize);
                    self.indent(depth);
                    self.out.push_str("}\n");
                }
            }
        }
        self.leading(close, depth);
    }

    fn lit(&self, e: &Expr) -> String {
        self.src
            .get(e.span.start as usize..e.span.end as usize)
            .unwrap_or("")
            .to_string()
    }

    fn expr(&self, e: &Expr) -> String {
        self.expr_prec(e, 0)
    }

    fn expr_prec(&self, e: &Expr, min: u8) -> String {
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) => self.lit(e),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Str(s) => quote(s),
            ExprKind::Name(n) => n.clone(),
            ExprKind::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|x| self.expr(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ExprKind::Call(c) => self.call(c),
            ExprKind::Neg(x) => format!("-{}", self.expr_prec(x, 3)),
            ExprKind::Index(a, i) => format!("{}[{}]", self.expr_prec(a, 4), self.expr(i)),
            ExprKind::Binary(op, a, b) => {
                let p = match op {
                    BinOp::Add | BinOp::Sub => 1,
                    _ => 2,
                };
                let s = format!(
                    "{} {} {}",
                    self.expr_prec(a, p),
                    op.symbol(),
                    self.expr_prec(b, p + 1)
                );
                if p < min {
                    format!("({s})")
                } else {
                    s
                }
            }
        }
    }

    fn call(&self, c: &Call) -> String {
        if !c.parens {
            return c.name.name.clone();
        }
        let args: Vec<String> = c
            .args
            .iter()
            .map(|a| match &a.name {
                Some(n) => format!("{} = {}", n.name, self.expr(&a.value)),
                None => self.expr(&a.value),
            })
            .collect();
        format!("{}({})", c.name.name, args.join(", "))
    }

    fn settings(&mut self, kw: &str, s: &Settings) {
        self.leading(s.span.start as usize, 0);
        self.out.push_str(kw);
        self.out.push_str(" {\n");
        for e in &s.entries {
            let text = format!("{} = {}", e.key.name, self.expr(&e.value));
            self.line(1, &text, e.span);
        }
        self.leading(s.span.end as usize, 1);
        self.out.push_str("}\n");
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Use(u) => {
                let t = match &u.target {
                    UseTarget::Stdlib(id) => format!("use {}", id.name),
                    UseTarget::File { path, .. } => format!("use {}", quote(path)),
                };
                self.line(0, &t, u.span);
            }
            Item::Let(l) => self.line(
                0,
                &format!("let {} = {}", l.name.name, self.expr(&l.value)),
                l.span,
            ),
            Item::Data(d) => self.line(
                0,
                &format!("data {} = {}", d.name.name, self.call(&d.source)),
                d.span,
            ),
            Item::Block(b) => {
                let params: Vec<String> = b
                    .params
                    .iter()
                    .map(|p| match &p.default {
                        Some(d) => {
                            format!("{}: {} = {}", p.name.name, p.ty.ty.name(), self.expr(d))
                        }
                        None => format!("{}: {}", p.name.name, p.ty.ty.name()),
                    })
                    .collect();
                self.leading(b.span.start as usize, 0);
                self.out.push_str(&format!(
                    "block {}({}) {{\n",
                    b.name.name,
                    params.join(", ")
                ));
                self.body(&b.body, 1, b.span.end as usize);
                self.out.push_str("}\n");
            }
            Item::Model(m) => {
                self.leading(m.span.start as usize, 0);
                self.out.push_str(&format!("model {} {{\n", m.name.name));
                for s in &m.sections {
                    match s {
                        Section::Input { shape, span } => {
                            self.line(1, &format!("input {}", self.expr(shape)), *span)
                        }
                        Section::Latent { op, span } => {
                            self.line(1, &format!("latent {}", self.call(op)), *span)
                        }
                        Section::Encoder { body, span } | Section::Decoder { body, span } => {
                            let kw = s.keyword();
                            let inner_comment = self.comments[self.next..].iter().any(|c| {
                                c.offset < span.end as usize && c.offset > span.start as usize
                            });
                            if let ([Stmt::Layer(c)], false) = (body.as_slice(), inner_comment) {
                                let t = format!("{kw} {{ {} }}", self.call(c));
                                self.line(1, &t, *span);
                            } else {
                                self.leading(span.start as usize, 1);
                                self.out.push_str(&format!("    {kw} {{\n"));
                                self.body(body, 2, span.end as usize);
                                self.out.push_str("    }\n");
                            }
                        }
                    }
                }
                self.leading(m.span.end as usize, 1);
                self.out.push_str("}\n");
            }
            Item::Train(s) => self.settings("train", s),
            Item::Eval(s) => self.settings("eval", s),
        }
    }
}

/// A string literal the lexer reads back to `s` (only `\\`, `\"`, `\n`, `\t` are escapes).
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn group(item: &Item) -> u8 {
    match item {
        Item::Use(_) => 0,
        Item::Let(_) => 1,
        Item::Data(_) => 2,
        _ => 3,
    }
}

/// Format a file; a syntax error comes back rendered.
pub fn format(name: &str, text: &str) -> Result<String, String> {
    let (sources, module) = crate::parse(name, text);
    let module = module.map_err(|e| e.diagnostic().render(&sources))?;
    let mut p = Printer {
        src: text,
        comments: comments(text),
        next: 0,
        out: String::new(),
    };
    let mut prev: Option<&Item> = None;
    for item in &module.items {
        if let Some(prev) = prev {
            let same = group(prev) == group(item) && group(item) < 3;
            if !same {
                p.out.push('\n');
            }
        }
        p.item(item);
        prev = Some(item);
    }
    let rest: Vec<String> = p.comments[p.next..]
        .iter()
        .map(|c| c.text.clone())
        .collect();
    if !rest.is_empty() {
        if !p.out.is_empty() {
            p.out.push('\n');
        }
        for c in rest {
            p.out.push_str(&c);
            p.out.push('\n');
        }
    }
    Ok(p.out)
}
