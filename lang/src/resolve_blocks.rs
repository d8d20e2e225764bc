//! Encoder and decoder bodies expanded: `let` and `for` evaluated, each call bound as a
//! layer or expanded as a block (with the trace an error inside it reports).

use super::{LayerCall, Resolver, MAX_LAYERS};
use crate::ast::{self, Item, Stmt};
use crate::catalog::{self, LATENT_OPS, LAYERS};
use crate::error::{Error, ErrorKind, Result};
use crate::eval::{eval, unknown_name};
use crate::signature::{match_args, ArgIn};
use crate::span::Span;
use crate::suggest::closest;
use crate::value::{Env, Value};
use std::collections::HashMap;

impl Resolver<'_> {
    pub(super) fn expand(
        &mut self,
        body: &[Stmt],
        module: usize,
        env: &mut Env,
        trace: &mut Vec<(Span, String)>,
        out: &mut Vec<LayerCall>,
        section: &'static str,
    ) -> Result<()> {
        let mark = env.mark();
        let mut local: HashMap<String, Span> = HashMap::new();
        for s in body {
            match s {
                Stmt::Let(l) => {
                    if let Some(first) = local.get(&l.name.name) {
                        return Err(Error::from(ErrorKind::DuplicateDefinition {
                            span: l.name.span,
                            first: *first,
                            kind: "constant",
                            name: l.name.name.clone(),
                        })
                        .with_trace(trace));
                    }
                    local.insert(l.name.name.clone(), l.name.span);
                    let v = eval(&l.value, env).map_err(|e| e.with_trace(trace))?;
                    env.bind(&l.name.name, v, l.name.span);
                }
                Stmt::For(f) => {
                    let v = eval(&f.iter, env).map_err(|e| e.with_trace(trace))?;
                    let Value::List(items) = v else {
                        let err = if let Value::Symbol(n) = &v {
                            unknown_name(f.iter.span, n, env)
                        } else {
                            ErrorKind::TypeMismatch {
                                span: f.iter.span,
                                what: "the value of a `for` loop".into(),
                                expected: "a list".into(),
                                found: v.describe(),
                            }
                            .into()
                        };
                        return Err(err.with_trace(trace));
                    };
                    for item in items {
                        let m = env.mark();
                        env.bind(&f.var.name, item, f.var.span);
                        self.expand(&f.body, module, env, trace, out, section)?;
                        env.truncate(m);
                    }
                }
                Stmt::Layer(call) => self.layer(call, module, env, trace, out, section)?,
            }
        }
        env.truncate(mark);
        Ok(())
    }

    pub(super) fn layer(
        &mut self,
        call: &ast::Call,
        module: usize,
        env: &mut Env,
        trace: &mut Vec<(Span, String)>,
        out: &mut Vec<LayerCall>,
        section: &'static str,
    ) -> Result<()> {
        let name = &call.name.name;
        if let Some(spec) = catalog::find(LAYERS, name) {
            self.expanded += 1;
            if self.expanded > MAX_LAYERS {
                return Err(Error::from(ErrorKind::TooLarge {
                    span: call.span,
                    what: format!("the expanded model (over {MAX_LAYERS} layers)"),
                })
                .with_trace(trace));
            }
            let bound = self
                .bind_call(spec, call, env)
                .map_err(|e| e.with_trace(trace))?;
            out.push(LayerCall {
                bound,
                trace: trace.clone(),
            });
            return Ok(());
        }
        if let Some(&(m, k)) = self.modules[module].scope.get(name) {
            if trace.iter().any(|(_, b)| b == name) {
                let mut chain: Vec<String> = trace.iter().map(|(_, b)| b.clone()).collect();
                chain.push(name.clone());
                return Err(Error::from(ErrorKind::RecursiveBlock {
                    span: call.name.span,
                    chain,
                })
                .with_trace(trace));
            }
            let Item::Block(block) = &self.modules[m].ast.items[k] else {
                return Ok(());
            };
            let block = block.clone();
            let mut benv = self
                .bind_block(&block, call, m, env)
                .map_err(|e| e.with_trace(trace))?;
            trace.push((call.span, name.clone()));
            let r = self.expand(&block.body, m, &mut benv, trace, out, section);
            trace.pop();
            return r;
        }
        if catalog::find(LATENT_OPS, name).is_some() {
            return Err(Error::from(ErrorKind::MisplacedOp {
                span: call.name.span,
                name: name.clone(),
                found_in: section,
                belongs: "`latent` line",
            })
            .with_trace(trace));
        }
        let candidates = LAYERS
            .iter()
            .map(|l| l.name)
            .chain(self.modules[module].scope.keys().map(String::as_str));
        Err(Error::from(ErrorKind::UnknownLayer {
            span: call.name.span,
            name: name.clone(),
            suggestion: closest(name, candidates),
            known: LAYERS.iter().map(|l| l.name).collect(),
        })
        .with_trace(trace))
    }

    /// The environment a block body runs in: its module's constants plus its parameters.
    pub(super) fn bind_block(
        &self,
        block: &ast::BlockDef,
        call: &ast::Call,
        m: usize,
        env: &Env,
    ) -> Result<Env> {
        let args = self.args(call, env)?;
        let names: Vec<&str> = block.params.iter().map(|p| p.name.name.as_str()).collect();
        let required: Vec<bool> = block.params.iter().map(|p| p.default.is_none()).collect();
        let types: Vec<String> = block
            .params
            .iter()
            .map(|p| p.ty.ty.name().to_string())
            .collect();
        let slots = match_args(
            &block.name.name,
            &names,
            names.len(),
            &args,
            call.span,
            &required,
            &types,
        )?;
        let mut benv = self.modules[m].env.clone();
        let mut args: Vec<Option<ArgIn>> = args.into_iter().map(Some).collect();
        for (p, slot) in block.params.iter().zip(slots) {
            let (v, span) = match slot.and_then(|k| args[k].take()) {
                Some(a) => (a.value, a.span),
                None => match &p.default {
                    Some(d) => (eval(d, &benv)?, d.span),
                    None => continue,
                },
            };
            if !v.fits(p.ty.ty) {
                if let Value::Symbol(n) = &v {
                    return Err(unknown_name(span, n, env));
                }
                return Err(ErrorKind::TypeMismatch {
                    span,
                    what: format!("`{}` of block `{}`", p.name.name, block.name.name),
                    expected: p.ty.ty.name().into(),
                    found: v.describe(),
                }
                .into());
            }
            benv.bind(&p.name.name, v.coerce(p.ty.ty), p.name.span);
        }
        Ok(benv)
    }
}
