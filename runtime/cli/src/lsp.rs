//! `rrae lsp`: a language server over stdio for `.rrae` files.
//!
//! The framing is ours (`lsp_frame.rs`: limits, and error replies to malformed input);
//! the initialize handshake and shutdown are `lsp-server`'s, the message types
//! `lsp-types`'; and what the checker knows:
//! - diagnostics: the checker's error (code, message, label, help) on every open and
//!   change, at its span in the edited file, or at the `use`/block call that led to it;
//! - hover: on a layer, its IR line as `rrae check` prints it (output shape, parameter
//!   count); on a block call, every layer it expanded to; on the latent operator, its
//!   training and inference forms;
//! - go to definition: a block's `block` line (this file or a `use`d file), a `use`d file;
//! - completion: layers, latent operators, data sources, settings and blocks in scope.

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{Completion, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CompletionOptions, CompletionResponse, Diagnostic, DiagnosticSeverity, GotoDefinitionResponse,
    Hover, HoverContents, HoverProviderCapability, Location, MarkupContent, MarkupKind,
    NumberOrString, OneOf, Position, PublishDiagnosticsParams, Range, ServerCapabilities,
    TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind, Url,
};
use rrae_lang::ast::{Item, UseTarget};
use rrae_lang::span::{SourceMap, Span};
use rrae_lang::{Error, Ir};
use std::collections::HashMap;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Serves one client on stdin/stdout until it shuts down.
pub fn run() -> Result<(), Failure> {
    let (conn, io) = stdio();
    let caps = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions::default()),
        ..ServerCapabilities::default()
    };
    conn.initialize(serde_json::to_value(caps)?)?;
    let mut server = Server::default();
    for msg in &conn.receiver {
        match msg {
            Message::Request(req) => {
                if conn.handle_shutdown(&req)? {
                    break;
                }
                conn.sender.send(Message::Response(server.request(req)))?;
            }
            Message::Notification(n) => {
                if let Some(out) = server.notification(n) {
                    conn.sender.send(Message::Notification(out))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    // The writer thread ends when the connection's sender is gone.
    drop(conn);
    io.join().map_err(|_| "the writer thread panicked")?;
    Ok(())
}

/// A connection on stdin/stdout through `lsp_frame`: a reader thread that answers what
/// is not a message itself and passes the rest on, and a writer thread for both; the
/// handle is the writer's, which ends when the connection is dropped.
fn stdio() -> (Connection, std::thread::JoinHandle<()>) {
    use crate::lsp_frame::{error, parse, read_frame, write, Frame};
    use crossbeam_channel::{never, select, unbounded};
    let (to_writer, from_server) = unbounded::<Message>();
    let (to_server, from_reader) = unbounded::<Message>();
    let (replies, answers) = unbounded::<serde_json::Value>();
    let writer = std::thread::spawn(move || {
        let mut out = std::io::stdout().lock();
        let mut answers = answers;
        loop {
            select! {
                recv(from_server) -> m => match m {
                    Ok(m) => if m.write(&mut out).is_err() { return },
                    Err(_) => return,
                },
                recv(answers) -> v => match v {
                    Ok(v) => if write(&mut out, &v).is_err() { return },
                    // The reader has ended: only the server's messages are left.
                    Err(_) => answers = never(),
                },
            }
        }
    });
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        loop {
            match read_frame(&mut input) {
                Ok(Frame::Body(body)) => match parse(&body) {
                    Ok(m) => {
                        let exit = matches!(&m, Message::Notification(n) if n.method == "exit");
                        if to_server.send(m).is_err() || exit {
                            return;
                        }
                    }
                    Err(reply) => {
                        let _ = replies.send(reply);
                    }
                },
                Ok(Frame::Refused(why)) => {
                    let _ = replies.send(error(serde_json::Value::Null, -32700, &why));
                }
                Ok(Frame::End) | Err(_) => return,
            }
        }
    });
    (
        Connection {
            sender: to_writer,
            receiver: from_reader,
        },
        writer,
    )
}

/// An open document and what checking it gave.
struct Doc {
    text: String,
    path: String,
    sources: SourceMap,
    result: Result<Ir, Error>,
}

#[derive(Default)]
struct Server {
    docs: HashMap<Url, Doc>,
}

impl Server {
    fn notification(&mut self, n: Notification) -> Option<Notification> {
        let (uri, text) = match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let p: lsp_types::DidOpenTextDocumentParams =
                    serde_json::from_value(n.params).ok()?;
                (p.text_document.uri, p.text_document.text)
            }
            DidChangeTextDocument::METHOD => {
                let p: lsp_types::DidChangeTextDocumentParams =
                    serde_json::from_value(n.params).ok()?;
                // Full sync: the last change is the whole text.
                let text = p.content_changes.into_iter().last()?.text;
                (p.text_document.uri, text)
            }
            DidCloseTextDocument::METHOD => {
                let p: lsp_types::DidCloseTextDocumentParams =
                    serde_json::from_value(n.params).ok()?;
                self.docs.remove(&p.text_document.uri);
                return None;
            }
            _ => return None,
        };
        let doc = check(&uri, text);
        let diagnostics = diagnostics(&doc);
        self.docs.insert(uri.clone(), doc);
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        Some(Notification::new(PublishDiagnostics::METHOD.into(), params))
    }

    fn request(&self, req: Request) -> Response {
        let id = req.id.clone();
        let result = match req.method.as_str() {
            HoverRequest::METHOD => self.with_position(req, |doc, at| {
                serde_json::to_value(hover(doc, at)).unwrap_or_default()
            }),
            GotoDefinition::METHOD => self.with_position(req, |doc, at| {
                serde_json::to_value(definition(doc, at)).unwrap_or_default()
            }),
            Completion::METHOD => {
                let at = serde_json::from_value::<lsp_types::CompletionParams>(req.params)
                    .ok()
                    .map(|p| p.text_document_position);
                let doc = at.as_ref().and_then(|p| {
                    let d = self.docs.get(&p.text_document.uri)?;
                    Some((
                        d.path.as_str(),
                        d.text.as_str(),
                        offset(&d.text, p.position),
                    ))
                });
                let items = crate::complete::completions(
                    doc.map(|(path, text, _)| (path, text)),
                    doc.map_or(0, |d| d.2),
                );
                serde_json::to_value(CompletionResponse::Array(items)).unwrap_or_default()
            }
            _ => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("rrae lsp does not answer {}", req.method),
                )
            }
        };
        Response::new_ok(id, result)
    }

    /// Runs `f` on the document and byte offset a positional request names (`null`
    /// for an unknown document).
    fn with_position(
        &self,
        req: Request,
        f: impl Fn(&Doc, usize) -> serde_json::Value,
    ) -> serde_json::Value {
        #[derive(serde::Deserialize)]
        struct Params {
            #[serde(flatten)]
            at: TextDocumentPositionParams,
        }
        let Ok(p) = serde_json::from_value::<Params>(req.params) else {
            return serde_json::Value::Null;
        };
        match self.docs.get(&p.at.text_document.uri) {
            Some(doc) => f(doc, offset(&doc.text, p.at.position)),
            None => serde_json::Value::Null,
        }
    }
}

fn check(uri: &Url, text: String) -> Doc {
    let path = uri
        .to_file_path()
        .map(|p| p.to_string_lossy().to_string())
        .unwrap_or_else(|_| uri.path().to_string());
    let checked = rrae_lang::check_str(&path, &text);
    Doc {
        text,
        path,
        sources: checked.sources,
        result: checked.result,
    }
}

/// The edited file's id in `sources`.
fn main_file(doc: &Doc) -> Option<rrae_lang::span::FileId> {
    let i = doc
        .sources
        .files()
        .iter()
        .position(|f| f.name == doc.path)?;
    Some(rrae_lang::span::FileId(i as u32))
}

/// The checker's error as a diagnostic in the edited file: at its own span when it is
/// in this file, else at the call (or `use`) in this file that led to it.
fn diagnostics(doc: &Doc) -> Vec<Diagnostic> {
    let Err(e) = &doc.result else {
        return vec![];
    };
    let d = e.diagnostic();
    let main = main_file(doc);
    let here = |s: &Span| Some(s.file) == main;
    let span = std::iter::once(&d.primary)
        .chain(d.secondary.iter().map(|(s, _)| s))
        .find(|s| here(s))
        .copied();
    let range = span.map_or_else(Range::default, |s| range(&doc.text, s));
    let mut message = d.message.clone();
    if !d.label.is_empty() {
        message.push_str(&format!("\n{}", d.label));
    }
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    if span != Some(d.primary) {
        let loc = doc.sources.location(d.primary);
        message.push_str(&format!("\n(in {}:{}:{})", loc.file, loc.line, loc.col));
    }
    vec![Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::ERROR),
        code: Some(NumberOrString::String(d.code.into())),
        source: Some("rrae".into()),
        message,
        ..Diagnostic::default()
    }]
}

/// What the checker knows of the layer, block call or latent operator at `at`; else,
/// for a builtin's name (in a block body, or in a file that does not check), its
/// signature and documentation from the catalog.
fn hover(doc: &Doc, at: usize) -> Option<Hover> {
    let text = model_hover(doc, at).or_else(|| builtin_hover(&word_at(&doc.text, at)?))?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: None,
    })
}

/// A builtin's signature (parameters with their defaults) and its parameters' docs.
fn builtin_hover(word: &str) -> Option<String> {
    use rrae_lang::catalog;
    use rrae_lang::signature::Dflt;
    let op = catalog::LAYERS
        .iter()
        .chain(catalog::LATENT_OPS)
        .chain(catalog::DATA_SOURCES)
        .find(|op| op.name == word)?;
    let params: Vec<String> = op
        .params
        .iter()
        .map(|p| match p.default {
            Dflt::Required | Dflt::Absent => p.name.to_string(),
            Dflt::Int(v) => format!("{} = {v}", p.name),
            Dflt::Float(v) => format!("{} = {v}", p.name),
            Dflt::Bool(v) => format!("{} = {v}", p.name),
            Dflt::Word(v) => format!("{} = {v}", p.name),
        })
        .collect();
    let mut text = format!("```\n{}({})\n```\n{}", op.name, params.join(", "), op.doc);
    for p in op.params {
        text.push_str(&format!("\n- `{}`: {}", p.name, p.doc));
    }
    Some(text)
}

/// The checked model's view of `at`: a layer, the latent operator or a block call.
fn model_hover(doc: &Doc, at: usize) -> Option<String> {
    let ir = doc.result.as_ref().ok()?;
    let main = main_file(doc)?;
    let inside = |s: &Span| s.file == main && (s.start as usize..=s.end as usize).contains(&at);
    let nodes: Vec<&rrae_lang::ir::Node> = ir.encoder.iter().chain(&ir.decoder).collect();
    let text = if let Some(n) = nodes.iter().find(|n| inside(&n.span)) {
        format!("```\n{}\n```", n.line())
    } else if inside(&ir.latent.span) {
        format!(
            "```\n{}\n```\ninference: {}",
            ir.latent.line(),
            ir.latent.op.inference()
        )
    } else {
        // A block call: every layer expanded from it.
        let call = nodes
            .iter()
            .flat_map(|n| n.trace.iter())
            .find(|(s, _)| inside(s))?;
        let lines: Vec<String> = nodes
            .iter()
            .filter(|n| n.trace.contains(call))
            .map(|n| n.line())
            .collect();
        let params: usize = nodes
            .iter()
            .filter(|n| n.trace.contains(call))
            .map(|n| n.params)
            .sum();
        format!(
            "block `{}`: {} layers, {} params\n```\n{}\n```",
            call.1,
            lines.len(),
            rrae_lang::ir::thousands(params),
            lines.join("\n")
        )
    };
    Some(text)
}

/// Where the block named at `at` is defined, or the file a `use` at `at` names.
fn definition(doc: &Doc, at: usize) -> Option<GotoDefinitionResponse> {
    let (_, module) = rrae_lang::parse(&doc.path, &doc.text);
    let module = module.ok()?;
    let dir = std::path::Path::new(&doc.path).parent()?.to_path_buf();
    let mut files: Vec<(String, String)> = vec![(doc.path.clone(), doc.text.clone())];
    for item in &module.items {
        if let Item::Use(u) = item {
            if let UseTarget::File { path, span } = &u.target {
                let file = dir.join(path);
                if (span.start as usize..=span.end as usize).contains(&at) {
                    let uri = Url::from_file_path(&file).ok()?;
                    return Some(GotoDefinitionResponse::Scalar(Location::new(
                        uri,
                        Range::default(),
                    )));
                }
                if let Ok(text) = std::fs::read_to_string(&file) {
                    files.push((file.to_string_lossy().to_string(), text));
                }
            }
        }
    }
    let word = word_at(&doc.text, at)?;
    // The standard library's modules, written out where an editor can open them.
    for (name, text) in rrae_lang::loader::STDLIB {
        if let Some(path) = stdlib_file(name, text) {
            files.push((path.to_string_lossy().to_string(), text.to_string()));
        }
    }
    for (path, text) in &files {
        let (_, parsed) = rrae_lang::parse(path, text);
        let Ok(m) = parsed else { continue };
        for item in &m.items {
            if let Item::Block(b) = item {
                if b.name.name == word {
                    let uri = Url::from_file_path(path).ok()?;
                    return Some(GotoDefinitionResponse::Scalar(Location::new(
                        uri,
                        range(text, b.name.span),
                    )));
                }
            }
        }
    }
    None
}

/// The stdlib module `name` as a file an editor can open for go-to-definition: under
/// `$XDG_CACHE_HOME/rrae/stdlib/<version>/` (else `~/.cache/…`, else the temporary
/// folder), written once and atomically; `None` where no folder can be written.
fn stdlib_file(name: &str, text: &str) -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    // The version names the folder; a build whose text differs rewrites the file.
    let dir = base.join("rrae/stdlib").join(env!("CARGO_PKG_VERSION"));
    let path = dir.join(format!("{name}.rrae"));
    if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
        return Some(path);
    }
    std::fs::create_dir_all(&dir).ok()?;
    rrae_train::output::write_atomic(&path, text.as_bytes()).ok()?;
    Some(path)
}

/// The identifier around byte offset `at`.
fn word_at(text: &str, at: usize) -> Option<String> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let at = at.min(text.len());
    let start = text[..at]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(at, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| at + i);
    (end > start).then(|| text[start..end].to_string())
}

/// The byte offset of an LSP position (a line and a UTF-16 column).
fn offset(text: &str, p: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..p.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line = &text[line_start..];
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= p.character as usize || c == '\n' {
            return line_start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// The LSP position of a byte offset.
fn position(text: &str, at: usize) -> Position {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[start..].chars().map(char::len_utf16).sum();
    Position::new(line as u32, character as u32)
}

fn range(text: &str, s: Span) -> Range {
    Range::new(
        position(text, s.start as usize),
        position(text, s.end as usize),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_offsets_agree_across_lines_and_wide_characters() {
        let text = "ab\n# σ𝜎 x\nlast";
        for at in [0, 1, 3, 4, 6, 10, 13, 14, text.len()] {
            if text.is_char_boundary(at) {
                assert_eq!(offset(text, position(text, at)), at, "offset {at}");
            }
        }
        // `𝜎` is two UTF-16 units: `x` is at column 6 of line 1.
        assert_eq!(
            position(text, text.find('x').unwrap_or(0)),
            Position::new(1, 6)
        );
    }

    #[test]
    fn the_word_under_the_cursor() {
        let text = "encoder { cnn_encoder(latent = 2) }";
        let at = text.find("encoder(").unwrap_or(0) + 2;
        assert_eq!(word_at(text, at).as_deref(), Some("cnn_encoder"));
        assert_eq!(word_at(text, 8), None);
    }
}
