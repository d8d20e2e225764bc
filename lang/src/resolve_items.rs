//! The file's items besides blocks and `use`: its data sets, the `train` and `eval`
//! settings (constructors bound against their catalog rows), the one model with its
//! sections, and the latent line.

use super::{DataSet, Resolver};
use crate::ast::{self, Item, Section};
use crate::catalog::{self, DATA_SOURCES, LATENT_OPS, LAYERS};
use crate::error::{ErrorKind, Result};
use crate::eval::eval;
use crate::signature::{bind, ArgIn, Bound, OpSpec};
use crate::span::{FileId, Span};
use crate::suggest::closest;
use crate::value::{Env, Value};
use std::collections::HashMap;
use std::path::Path;

impl Resolver<'_> {
    /// The file's `data` items, bound against their catalog rows.
    pub(super) fn data_sets(
        &mut self,
        items: &[Item],
        env: &Env,
        dir: &Path,
    ) -> Result<Vec<DataSet>> {
        let mut data: Vec<DataSet> = Vec::new();
        for item in items {
            if let Item::Data(d) = item {
                if let Some(first) = data.iter().find(|x| x.name == d.name.name) {
                    return Err(ErrorKind::DuplicateDefinition {
                        span: d.name.span,
                        first: first.span,
                        kind: "data set",
                        name: d.name.name.clone(),
                    }
                    .into());
                }
                let Some(spec) = catalog::find(DATA_SOURCES, &d.source.name.name) else {
                    return Err(ErrorKind::UnknownDataSource {
                        span: d.source.name.span,
                        name: d.source.name.name.clone(),
                        suggestion: closest(
                            &d.source.name.name,
                            DATA_SOURCES.iter().map(|s| s.name),
                        ),
                    }
                    .into());
                };
                let bound = self.bind_call(spec, &d.source, env)?;
                data.push(DataSet {
                    name: d.name.name.clone(),
                    bound,
                    span: d.name.span,
                    dir: dir.to_path_buf(),
                });
            }
        }
        Ok(data)
    }

    pub(super) fn settings(
        &self,
        items: &[Item],
        section: &'static str,
        spec: &OpSpec,
        env: &Env,
        file: FileId,
    ) -> Result<Bound> {
        let mut chosen: Option<&ast::Settings> = None;
        for it in items {
            let s = match (it, section) {
                (Item::Train(s), "train") | (Item::Eval(s), "eval") => s,
                _ => continue,
            };
            if let Some(first) = chosen {
                return Err(ErrorKind::DuplicateDefinition {
                    span: s.span,
                    first: first.span,
                    kind: "settings section",
                    name: section.into(),
                }
                .into());
            }
            chosen = Some(s);
        }
        let (entries, span) = match chosen {
            Some(s) => (s.entries.as_slice(), s.span),
            None => (&[][..], Span::new(file, 0, 0)),
        };
        let mut args = Vec::new();
        for e in entries {
            if !spec.params.iter().any(|p| p.name == e.key.name) {
                return Err(ErrorKind::UnknownSetting {
                    span: e.key.span,
                    section,
                    key: e.key.name.clone(),
                    suggestion: closest(&e.key.name, spec.params.iter().map(|p| p.name)),
                }
                .into());
            }
            args.push(ArgIn {
                name: Some(&e.key),
                value: eval(&e.value, env)?,
                span: e.value.span,
            });
        }
        let mut bound = bind(spec, args, span, env)?;
        // Constructor values (`step(every = 500)`, `adam(beta1 = 0.8)`, a bare `adam`) are
        // bound against their own rows, defaults filled in, and kept for shape inference.
        let mut calls = vec![];
        for (name, v) in &bound.values {
            let (cname, cargs, vspan) = match v {
                Some((Value::Call(c, a), s)) => (c, a.as_slice(), *s),
                Some((Value::Symbol(c) | Value::Str(c), s)) => (c, &[][..], *s),
                Some(_) | None => continue,
            };
            let Some(cspec) = catalog::find(catalog::CONSTRUCTORS, cname) else {
                continue;
            };
            let idents: Vec<Option<ast::Ident>> = cargs
                .iter()
                .map(|(n, _)| {
                    n.as_ref().map(|n| ast::Ident {
                        name: n.clone(),
                        span: vspan,
                    })
                })
                .collect();
            let cin = cargs
                .iter()
                .zip(&idents)
                .map(|((_, v), id)| ArgIn {
                    name: id.as_ref(),
                    value: v.clone(),
                    span: vspan,
                })
                .collect();
            calls.push((
                *name,
                bind(cspec, cin, vspan, env).map_err(|e| e.with_trace(&[]))?,
            ));
        }
        bound.calls = calls;
        Ok(bound)
    }

    /// The `latent` line's call, bound against its operator's catalog row; a layer or
    /// block named there is told where it belongs.
    pub(super) fn latent_call(&mut self, op: &ast::Call, root: usize, env: &Env) -> Result<Bound> {
        let Some(spec) = catalog::find(LATENT_OPS, &op.name.name) else {
            if catalog::find(LAYERS, &op.name.name).is_some()
                || self.modules[root].scope.contains_key(&op.name.name)
            {
                return Err(ErrorKind::MisplacedOp {
                    span: op.name.span,
                    name: op.name.name.clone(),
                    found_in: "latent line",
                    belongs: "encoder or decoder",
                }
                .into());
            }
            return Err(ErrorKind::UnknownLatentOp {
                span: op.name.span,
                name: op.name.name.clone(),
                suggestion: closest(&op.name.name, LATENT_OPS.iter().map(|s| s.name)),
                known: LATENT_OPS.iter().map(|s| s.name).collect(),
            }
            .into());
        };
        self.bind_call(spec, op, env)
    }
}

/// Which data set the train block trains on: the one it names, or the only one.
pub(super) fn data_ref(train: &Bound, data: &[DataSet]) -> Result<Option<usize>> {
    Ok(match train.get("data") {
        Some(Value::Symbol(n)) => match data.iter().position(|d| &d.name == n) {
            Some(i) => Some(i),
            None => {
                return Err(ErrorKind::UnknownData {
                    span: train.span("data"),
                    name: n.clone(),
                    suggestion: closest(n, data.iter().map(|d| d.name.as_str())),
                }
                .into())
            }
        },
        _ if data.len() == 1 => Some(0),
        _ if data.is_empty() => None,
        _ => {
            return Err(ErrorKind::MissingArgument {
                span: train.span,
                op: "train".into(),
                param: "data".into(),
                ty: format!(
                    "one of {}",
                    data.iter()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
            .into())
        }
    })
}

/// The file's one model, with each of its sections once and none missing.
pub(super) fn the_model(items: &[Item], file: FileId) -> Result<&ast::ModelDef> {
    let models: Vec<&ast::ModelDef> = items
        .iter()
        .filter_map(|i| match i {
            Item::Model(m) => Some(m),
            _ => None,
        })
        .collect();
    let model = match models.as_slice() {
        [] => {
            return Err(ErrorKind::ModelCount {
                span: Span::new(file, 0, 0),
                first: None,
            }
            .into())
        }
        [m] => *m,
        [a, b, ..] => {
            return Err(ErrorKind::ModelCount {
                span: b.name.span,
                first: Some(a.name.span),
            }
            .into())
        }
    };
    let mut found: HashMap<&'static str, &Section> = HashMap::new();
    for s in &model.sections {
        if let Some(first) = found.get(s.keyword()) {
            return Err(ErrorKind::Section {
                span: s.span(),
                section: s.keyword(),
                first: Some(first.span()),
            }
            .into());
        }
        found.insert(s.keyword(), s);
    }
    for want in ["input", "encoder", "latent", "decoder"] {
        if !found.contains_key(want) {
            return Err(ErrorKind::Section {
                span: model.name.span,
                section: want,
                first: None,
            }
            .into());
        }
    }
    Ok(model)
}
