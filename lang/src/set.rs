//! `--set PATH=VALUE`: a setting of a model file changed from the command line.
//!
//! The value is spliced into the file's text where the setting is written (or added to
//! its block or argument list when the file leaves it at its default), and the result
//! is checked like any file: a `--set` value meets exactly the checks, defaults and
//! diagnostics a written one does, and the text that trained is what the run folder
//! keeps. One splice per assignment, in order; a later `--set` of the same path wins.
//!
//! Paths: `train.KEY`, `eval.KEY` (a setting), `latent` (the whole operator, the
//! one-line swap), `latent.ARG`, `data.ARG` (the file's data source, or
//! `data.NAME.ARG` when it declares several), and `NAME` (a file-level `let`).

use crate::ast::{Call, Item, Module, Section, Settings};
use crate::error::ErrorKind;

/// One `PATH=VALUE` as given.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assignment {
    pub path: String,
    pub value: String,
}

impl std::fmt::Display for Assignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

impl std::str::FromStr for Assignment {
    type Err = String;

    /// `train.lr=3e-4`: the path is what precedes the first `=`.
    fn from_str(s: &str) -> Result<Self, String> {
        let Some((path, value)) = s.split_once('=') else {
            return Err(format!(
                "`{s}` is not PATH=VALUE (for example `train.lr=3e-4`)"
            ));
        };
        let (path, value) = (path.trim(), value.trim());
        let word = |w: &str| {
            !w.is_empty()
                && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !w.starts_with(|c: char| c.is_ascii_digit())
        };
        if path.is_empty() || !path.split('.').all(word) {
            return Err(format!(
                "`{path}` is not a setting path: names joined by dots, such as `train.lr`, `latent.k`, `data.split` or `L`"
            ));
        }
        if value.is_empty() {
            return Err(format!("`{path}=` has no value"));
        }
        Ok(Assignment {
            path: path.to_string(),
            value: value.to_string(),
        })
    }
}

/// Why an assignment cannot be applied: the error, and the sources its spans point
/// into (the `--set` assignments as a file of their own, one per line, or the model file
/// when it does not parse).
pub struct SetError {
    pub sources: crate::SourceMap,
    pub error: crate::Error,
}

impl SetError {
    pub fn render(&self) -> String {
        self.error.diagnostic().render(&self.sources)
    }
}

impl std::fmt::Debug for SetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// The text of `text` (the file `name`) with every assignment applied in order, or why
/// one cannot be: a value that is not one expression (E043), a path the file has no
/// place for (E044).
pub fn apply(name: &str, text: &str, sets: &[Assignment]) -> Result<String, SetError> {
    // The assignments as a file, so that a diagnostic can point into them.
    let mut sources = crate::SourceMap::new();
    let lines: Vec<String> = sets.iter().map(Assignment::to_string).collect();
    let file = sources.add("--set", lines.join("\n") + "\n");
    let mut line_start = 0usize;
    let mut text = text.to_string();
    for a in sets {
        let path_span = crate::span::Span::new(file, line_start, line_start + a.path.len());
        let value_start = line_start + a.path.len() + 1;
        let value_span = crate::span::Span::new(file, value_start, value_start + a.value.len());
        line_start += a.to_string().len() + 1;
        if !value_parses(a) {
            return Err(SetError {
                sources,
                error: ErrorKind::SetValue {
                    span: value_span,
                    value: a.value.clone(),
                }
                .into(),
            });
        }
        let module = match crate::parse(name, &text) {
            (_, Ok(m)) => m,
            (file_sources, Err(e)) => {
                return Err(SetError {
                    sources: file_sources,
                    error: e,
                })
            }
        };
        let edit = locate(&module, &text, a).map_err(|(reason, help)| SetError {
            sources: sources.clone(),
            error: ErrorKind::SetPath {
                span: path_span,
                path: a.path.clone(),
                reason,
                help,
            }
            .into(),
        })?;
        text = format!("{}{}{}", &text[..edit.at], edit.insert, &text[edit.end..]);
    }
    Ok(text)
}

/// A value is one expression on its own, before it goes anywhere near the file: a
/// syntax error is then the value's, not a confusing one in the spliced text.
fn value_parses(a: &Assignment) -> bool {
    let probe = format!("let set_value = {}\n", a.value);
    matches!(crate::parse("--set", &probe).1, Ok(m) if m.items.len() == 1)
}

/// Replace `[at, end)` with `insert`.
struct Edit {
    at: usize,
    end: usize,
    insert: String,
}

/// Where an assignment goes, or (why not, what would).
fn locate(m: &Module, text: &str, a: &Assignment) -> Result<Edit, (String, String)> {
    let parts: Vec<&str> = a.path.split('.').collect();
    let v = &a.value;
    match parts.as_slice() {
        ["train", key] => Ok(settings_edit(m, text, "train", key, v)),
        ["eval", key] => Ok(settings_edit(m, text, "eval", key, v)),
        ["latent"] => {
            let op = latent(m).ok_or_else(no_model)?;
            Ok(replace(op.span.start, op.span.end, v))
        }
        ["latent", arg] => {
            let op = latent(m).ok_or_else(no_model)?;
            Ok(arg_edit(op, text, arg, v))
        }
        ["data", arg] => {
            let decls: Vec<_> = data_decls(m).collect();
            match decls.as_slice() {
                [d] => Ok(arg_edit(&d.source, text, arg, v)),
                [] => Err((
                    "the file declares no `data`".into(),
                    "add a `data NAME = source(…)` line to the file".into(),
                )),
                many => Err((
                    format!("the file declares {} data sources", many.len()),
                    format!(
                        "name one: {}",
                        many.iter()
                            .map(|d| format!("`data.{}.{arg}`", d.name.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        }
        ["data", name, arg] => match data_decls(m).find(|d| d.name.name == *name) {
            Some(d) => Ok(arg_edit(&d.source, text, arg, v)),
            None => Err((
                format!("the file declares no `data {name}`"),
                format!(
                    "its data sources: {}",
                    names(data_decls(m).map(|d| d.name.name.as_str()))
                ),
            )),
        },
        [name] => {
            let lets = || {
                m.items.iter().filter_map(|i| match i {
                    Item::Let(l) => Some(l),
                    _ => None,
                })
            };
            match lets().find(|l| l.name.name == *name) {
                Some(l) => Ok(replace(l.value.span.start, l.value.span.end, v)),
                None => Err((
                    format!("the file has no `let {name}`"),
                    format!(
                        "its constants: {}; a block's setting is `train.{name}`, `eval.{name}`, `latent.{name}` or `data.{name}`",
                        names(lets().map(|l| l.name.name.as_str()))
                    ),
                )),
            }
        }
        _ => Err((
            "it is not a path --set knows".into(),
            "the paths are `train.KEY`, `eval.KEY`, `latent`, `latent.ARG`, `data.ARG`, `data.NAME.ARG` and a file-level `let` NAME; layer sequences change through a `let` they use".into(),
        )),
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = it.map(|n| format!("`{n}`")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn no_model() -> (String, String) {
    (
        "the file has no `model` with a `latent` line".into(),
        "--set changes what the file writes; write the model first".into(),
    )
}

fn replace(start: u32, end: u32, value: &str) -> Edit {
    Edit {
        at: start as usize,
        end: end as usize,
        insert: value.to_string(),
    }
}

fn latent(m: &Module) -> Option<&Call> {
    m.items.iter().find_map(|i| match i {
        Item::Model(model) => model.sections.iter().find_map(|s| match s {
            Section::Latent { op, .. } => Some(op),
            Section::Input { .. } | Section::Encoder { .. } | Section::Decoder { .. } => None,
        }),
        _ => None,
    })
}

fn data_decls(m: &Module) -> impl Iterator<Item = &crate::ast::DataDecl> {
    m.items.iter().filter_map(|i| match i {
        Item::Data(d) => Some(d),
        _ => None,
    })
}

/// A setting in `train { }` or `eval { }`: its value replaced, or the line added
/// before the block's `}` (a block the file lacks is added at its end).
fn settings_edit(m: &Module, text: &str, block: &str, key: &str, value: &str) -> Edit {
    let found: Option<&Settings> = m.items.iter().find_map(|i| match (i, block) {
        (Item::Train(s), "train") | (Item::Eval(s), "eval") => Some(s),
        _ => None,
    });
    let Some(s) = found else {
        let end = text.len();
        let sep = if text.ends_with('\n') { "" } else { "\n" };
        return Edit {
            at: end,
            end,
            insert: format!("{sep}\n{block} {{\n    {key} = {value}\n}}\n"),
        };
    };
    if let Some(e) = s.entries.iter().rev().find(|e| e.key.name == key) {
        return replace(e.value.span.start, e.value.span.end, value);
    }
    before_close(text, s.span.end as usize, &format!("{key} = {value}"))
}

/// Inserts `line` before the `}` that ends at `close_end`: on a line of its own when
/// the `}` starts its line, else inline.
fn before_close(text: &str, close_end: usize, line: &str) -> Edit {
    let close = close_end.saturating_sub(1);
    let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
    if text[line_start..close].trim().is_empty() {
        Edit {
            at: line_start,
            end: line_start,
            insert: format!("    {line}\n"),
        }
    } else {
        Edit {
            at: close,
            end: close,
            insert: format!(" {line} "),
        }
    }
}

/// A named argument of a call: its value replaced, or `ARG = VALUE` added to the list
/// (parentheses added to a bare name).
fn arg_edit(call: &Call, text: &str, arg: &str, value: &str) -> Edit {
    if let Some(a) = call
        .args
        .iter()
        .rev()
        .find(|a| a.name.as_ref().is_some_and(|n| n.name == arg))
    {
        return replace(a.value.span.start, a.value.span.end, value);
    }
    if !call.parens {
        let end = call.name.span.end;
        return Edit {
            at: end as usize,
            end: end as usize,
            insert: format!("({arg} = {value})"),
        };
    }
    // Before the `)`; after a comma when there are arguments (and none trails).
    let close = call.span.end as usize - 1;
    let before = text[..close].trim_end();
    let comma = if call.args.is_empty() || before.ends_with('(') {
        ""
    } else if before.ends_with(',') {
        " "
    } else {
        ", "
    };
    let at = before.len();
    Edit {
        at,
        end: at,
        insert: format!("{comma}{arg} = {value}"),
    }
}

#[cfg(test)]
#[path = "set_tests.rs"]
mod tests;
