//! Name resolution: load imports, bind constants, expand blocks and loops into a flat
//! layer list per section, and bind every call to its signature.
//!
//! The result, [`Resolved`], holds only builtin layers with checked argument values;
//! shapes are inferred from it by [`crate::infer`].

use crate::ast::{self, Item, Section, UseTarget};
use crate::catalog::{self, LAYERS};
use crate::error::{Error, ErrorKind, Result};
use crate::eval::{eval, unknown_name};
use crate::loader::{join, stdlib, Loader, STDLIB};
use crate::parser::{parse_module, SyntaxError, SyntaxKind};
use crate::signature::{bind, ArgIn, Bound, OpSpec};
use crate::span::{FileId, SourceMap, Span};
use crate::suggest::closest;
use crate::value::{Env, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Layers one model may expand to; a `for` over a huge list is refused, not run.
pub const MAX_LAYERS: usize = 10_000;

/// One builtin layer after expansion.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerCall {
    pub bound: Bound,
    /// Block calls this layer came from, outermost first.
    pub trace: Vec<(Span, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataSet {
    pub name: String,
    pub bound: Bound,
    pub span: Span,
    /// Directory of the declaring file, against which paths resolve.
    pub dir: PathBuf,
}

/// A model file after name resolution.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub model: String,
    pub model_span: Span,
    pub input: Vec<i64>,
    pub input_span: Span,
    pub encoder: Vec<LayerCall>,
    pub encoder_span: Span,
    pub latent: Bound,
    pub decoder: Vec<LayerCall>,
    pub decoder_span: Span,
    pub data: Vec<DataSet>,
    /// Index into `data` of the training set, if there is one.
    pub data_ref: Option<usize>,
    pub train: Bound,
    pub eval: Bound,
    /// Directory of the root file: relative paths resolve against it.
    pub dir: PathBuf,
}

struct ModuleInfo {
    ast: ast::Module,
    env: Env,
    /// Blocks visible in this module: name → (module index, item index).
    scope: HashMap<String, (usize, usize)>,
}

pub(crate) struct Resolver<'a> {
    pub sources: &'a mut SourceMap,
    loader: &'a dyn Loader,
    modules: Vec<ModuleInfo>,
    by_key: HashMap<String, usize>,
    stack: Vec<String>,
    expanded: usize,
}

pub(crate) fn syntax_error(file: FileId, e: SyntaxError) -> Error {
    let span = e.span(file);
    match e.kind {
        SyntaxKind::Expected { expected, found } => ErrorKind::Syntax {
            span,
            expected,
            found,
        },
        SyntaxKind::UnterminatedString => ErrorKind::UnterminatedString { span },
        SyntaxKind::BadNumber { text, reason } => ErrorKind::BadNumber { span, text, reason },
        SyntaxKind::Unclosed { delim, open } => ErrorKind::Unclosed {
            span,
            open: Span::new(file, open, open + 1),
            delim,
        },
        SyntaxKind::UnknownItem { found } => ErrorKind::UnknownItem {
            span,
            suggestion: closest(&found, crate::parser::item_keywords().iter().copied()),
            found,
        },
        SyntaxKind::TooDeep => ErrorKind::TooDeep { span },
        SyntaxKind::Nom(k) => ErrorKind::Syntax {
            span,
            expected: format!("valid syntax ({k:?})"),
            found: "something else".into(),
        },
    }
    .into()
}

impl<'a> Resolver<'a> {
    pub fn new(sources: &'a mut SourceMap, loader: &'a dyn Loader) -> Self {
        Resolver {
            sources,
            loader,
            modules: Vec::new(),
            by_key: HashMap::new(),
            stack: Vec::new(),
            expanded: 0,
        }
    }

    /// Parse and load a module and, recursively, what it imports.
    fn load(
        &mut self,
        key: String,
        name: String,
        text: String,
        dir: PathBuf,
        is_root: bool,
    ) -> Result<usize> {
        let file = self.sources.add(name, text);
        let text = self
            .sources
            .get(file)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        let ast = parse_module(file, &text).map_err(|e| syntax_error(file, e))?;
        self.stack.push(key.clone());
        let mut scope: HashMap<String, (usize, usize)> = HashMap::new();
        let mut origin: HashMap<String, Span> = HashMap::new();
        let mut env = Env::new();
        // Imports first, so a block may use blocks imported anywhere in its file.
        for item in &ast.items {
            if let Item::Use(u) = item {
                let m = self.import(u, &dir)?;
                for (bname, idx, span) in self.own_blocks(m) {
                    if let Some(first) = origin.get(&bname) {
                        return Err(ErrorKind::DuplicateDefinition {
                            span: u.span,
                            first: *first,
                            kind: "block",
                            name: bname,
                        }
                        .into());
                    }
                    let _ = span;
                    origin.insert(bname.clone(), u.span);
                    scope.insert(bname, (m, idx));
                }
            }
        }
        let me = self.modules.len();
        for (k, item) in ast.items.iter().enumerate() {
            match item {
                Item::Block(b) => {
                    if let Some(first) = origin.get(&b.name.name) {
                        return Err(ErrorKind::DuplicateDefinition {
                            span: b.name.span,
                            first: *first,
                            kind: "block",
                            name: b.name.name.clone(),
                        }
                        .into());
                    }
                    if LAYERS.iter().any(|l| l.name == b.name.name) {
                        return Err(ErrorKind::DuplicateDefinition {
                            span: b.name.span,
                            first: b.name.span,
                            kind: "block (shadowing a builtin layer)",
                            name: b.name.name.clone(),
                        }
                        .into());
                    }
                    let mut seen: HashMap<&str, Span> = HashMap::new();
                    for p in &b.params {
                        if let Some(first) = seen.insert(&p.name.name, p.name.span) {
                            return Err(ErrorKind::DuplicateDefinition {
                                span: p.name.span,
                                first,
                                kind: "parameter",
                                name: p.name.name.clone(),
                            }
                            .into());
                        }
                    }
                    origin.insert(b.name.name.clone(), b.name.span);
                    scope.insert(b.name.name.clone(), (me, k));
                }
                Item::Let(l) => {
                    if let Some(first) = env.defined_at(&l.name.name) {
                        return Err(ErrorKind::DuplicateDefinition {
                            span: l.name.span,
                            first,
                            kind: "constant",
                            name: l.name.name.clone(),
                        }
                        .into());
                    }
                    let v = eval(&l.value, &env)?;
                    env.bind(&l.name.name, v, l.name.span);
                }
                Item::Model(m) if !is_root => {
                    return Err(ErrorKind::MisplacedOp {
                        span: m.name.span,
                        name: "model".into(),
                        found_in: "an imported file",
                        belongs: "file given to `rrae`",
                    }
                    .into())
                }
                Item::Data(d) if !is_root => {
                    return Err(ErrorKind::MisplacedOp {
                        span: d.name.span,
                        name: "data".into(),
                        found_in: "an imported file",
                        belongs: "file given to `rrae`",
                    }
                    .into())
                }
                Item::Train(s) | Item::Eval(s) if !is_root => {
                    return Err(ErrorKind::MisplacedOp {
                        span: s.span,
                        name: "settings".into(),
                        found_in: "an imported file",
                        belongs: "file given to `rrae`",
                    }
                    .into())
                }
                _ => {}
            }
        }
        self.stack.pop();
        let _ = dir;
        self.modules.push(ModuleInfo { ast, env, scope });
        self.by_key.insert(key, me);
        Ok(me)
    }

    fn own_blocks(&self, m: usize) -> Vec<(String, usize, Span)> {
        self.modules[m]
            .ast
            .items
            .iter()
            .enumerate()
            .filter_map(|(k, it)| match it {
                Item::Block(b) => Some((b.name.name.clone(), k, b.name.span)),
                _ => None,
            })
            .collect()
    }

    fn import(&mut self, u: &ast::Use, dir: &Path) -> Result<usize> {
        let (key, name, text, mdir) = match &u.target {
            UseTarget::Stdlib(id) => {
                let Some(text) = stdlib(&id.name) else {
                    return Err(ErrorKind::ImportNotFound {
                        span: id.span,
                        target: id.name.clone(),
                        reason: "no stdlib module of this name".into(),
                        suggestion: closest(&id.name, STDLIB.iter().map(|(n, _)| *n)),
                    }
                    .into());
                };
                let key = format!("stdlib/{}.rrae", id.name);
                (key.clone(), key, text.to_string(), PathBuf::from("stdlib"))
            }
            UseTarget::File { path, span } => {
                let full = join(dir, path);
                let key = full.to_string_lossy().to_string();
                if self.stack.contains(&key) {
                    let mut cycle: Vec<String> = self
                        .stack
                        .iter()
                        .skip_while(|k| **k != key)
                        .cloned()
                        .collect();
                    cycle.push(key.clone());
                    return Err(ErrorKind::ImportCycle { span: *span, cycle }.into());
                }
                if let Some(m) = self.by_key.get(&key) {
                    return Ok(*m);
                }
                let text = self
                    .loader
                    .read(&full)
                    .map_err(|reason| ErrorKind::ImportNotFound {
                        span: *span,
                        target: path.clone(),
                        reason: format!("cannot read {}: {reason}", full.display()),
                        suggestion: None,
                    })?;
                let mdir = full.parent().map(Path::to_path_buf).unwrap_or_default();
                (key.clone(), key, text, mdir)
            }
        };
        if self.stack.contains(&key) {
            let mut cycle: Vec<String> = self
                .stack
                .iter()
                .skip_while(|k| **k != key)
                .cloned()
                .collect();
            cycle.push(key);
            return Err(ErrorKind::ImportCycle {
                span: u.span,
                cycle,
            }
            .into());
        }
        if let Some(m) = self.by_key.get(&key) {
            return Ok(*m);
        }
        self.load(key, name, text, mdir, false)
    }

    /// Resolve a whole program whose root file is `name` (its path) with `text`.
    pub fn resolve(mut self, name: &str, text: String) -> Result<Resolved> {
        let path = PathBuf::from(name);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let key = join(Path::new(""), name).to_string_lossy().to_string();
        let root = self.load(key, name.to_string(), text, dir.clone(), true)?;
        let file = self.modules[root].ast.file;
        let items = self.modules[root].ast.items.clone();
        let env = self.modules[root].env.clone();

        let data = self.data_sets(&items, &env, &dir)?;

        // Settings.
        let train = self.settings(&items, "train", &catalog::TRAIN, &env, file)?;
        let eval_b = self.settings(&items, "eval", &catalog::EVAL, &env, file)?;
        let data_ref = data_ref(&train, &data)?;

        // The model.
        let model = the_model(&items, file)?;
        let mut input = Vec::new();
        let mut input_span = model.name.span;
        let mut encoder = Vec::new();
        let mut decoder = Vec::new();
        let mut latent = None;
        let (mut encoder_span, mut decoder_span) = (model.name.span, model.name.span);
        for s in &model.sections {
            match s {
                Section::Input { shape, span } => {
                    input_span = shape.span;
                    let _ = span;
                    input = self.shape_value(shape, &env)?;
                }
                Section::Encoder { body, span } => {
                    encoder_span = *span;
                    let mut e = env.clone();
                    self.expand(body, root, &mut e, &mut Vec::new(), &mut encoder, "encoder")?;
                }
                Section::Decoder { body, span } => {
                    decoder_span = *span;
                    let mut e = env.clone();
                    self.expand(body, root, &mut e, &mut Vec::new(), &mut decoder, "decoder")?;
                }
                Section::Latent { op, .. } => latent = Some(self.latent_call(op, root, &env)?),
            }
        }
        let Some(latent) = latent else {
            return Err(ErrorKind::Section {
                span: model.name.span,
                section: "latent",
                first: None,
            }
            .into());
        };
        Ok(Resolved {
            model: model.name.name.clone(),
            model_span: model.name.span,
            input,
            input_span,
            encoder,
            encoder_span,
            latent,
            decoder,
            decoder_span,
            data,
            data_ref,
            train,
            eval: eval_b,
            dir,
        })
    }

    fn shape_value(&self, e: &ast::Expr, env: &Env) -> Result<Vec<i64>> {
        let v = eval(e, env)?;
        let dims = match &v {
            Value::List(items) if !items.is_empty() => items
                .iter()
                .map(|x| match x {
                    Value::Int(d) => Some(*d),
                    _ => None,
                })
                .collect::<Option<Vec<i64>>>(),
            _ => None,
        };
        match dims {
            Some(d) if d.iter().all(|x| *x > 0) && d.len() <= 3 => Ok(d),
            Some(d) => Err(ErrorKind::InvalidValue {
                span: e.span,
                what: "input shape".into(),
                value: v.to_string(),
                reason: if d.len() > 3 {
                    "at most 3 dimensions: [C, H, W], [C, N] or [N]".into()
                } else {
                    "every dimension must be positive".into()
                },
            }
            .into()),
            None => {
                if let Value::Symbol(n) = &v {
                    return Err(unknown_name(e.span, n, env));
                }
                Err(ErrorKind::TypeMismatch {
                    span: e.span,
                    what: "the input shape".into(),
                    expected: "a list of ints such as [1, 64, 64]".into(),
                    found: v.describe(),
                }
                .into())
            }
        }
    }

    fn args<'b>(&self, call: &'b ast::Call, env: &Env) -> Result<Vec<ArgIn<'b>>> {
        call.args
            .iter()
            .map(|a| {
                Ok(ArgIn {
                    name: a.name.as_ref(),
                    value: eval(&a.value, env)?,
                    span: a.value.span,
                })
            })
            .collect()
    }

    fn bind_call(&self, spec: &OpSpec, call: &ast::Call, env: &Env) -> Result<Bound> {
        let args = self.args(call, env)?;
        bind(spec, args, call.span, env)
    }
}

#[path = "resolve_items.rs"]
mod items;
use items::{data_ref, the_model};

#[path = "resolve_blocks.rs"]
mod blocks;

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
