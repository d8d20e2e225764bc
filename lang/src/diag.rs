//! Diagnostics rendered the way rustc renders them: a header, the source line, an
//! underline with a label, secondary labels elsewhere (e.g. the call site of a stdlib
//! block), then notes and a help line.

use crate::span::{SourceMap, Span};
use std::fmt::Write;

/// A rendered-on-demand error report. Built from [`crate::Error::diagnostic`].
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Stable error code, e.g. `E033`; listed in `docs/errors.md`.
    pub code: &'static str,
    pub message: String,
    pub primary: Span,
    pub label: String,
    /// Further places worth showing, each with its own label.
    pub secondary: Vec<(Span, String)>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, message: impl Into<String>, primary: Span) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary,
            label: String::new(),
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Render without colour, for terminals, logs and snapshots.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut spans: Vec<(Span, &str, char)> = vec![(self.primary, &self.label, '^')];
        spans.extend(self.secondary.iter().map(|(s, l)| (*s, l.as_str(), '-')));
        let width = spans
            .iter()
            .map(|(s, _, _)| sources.location(*s).line.to_string().len())
            .max()
            .unwrap_or(1);
        let pad = " ".repeat(width);
        let mut out = String::new();
        let _ = writeln!(out, "error[{}]: {}", self.code, self.message);
        for (i, (span, label, mark)) in spans.iter().enumerate() {
            let loc = sources.location(*span);
            let arrow = if i == 0 { "-->" } else { ":::" };
            let _ = writeln!(out, "{pad}{arrow} {loc}");
            let Some(file) = sources.get(span.file) else {
                continue;
            };
            let text = file.line_text(loc.line);
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{:>width$} | {}", loc.line, text);
            let start_col = loc.col.saturating_sub(1);
            let snippet = sources.snippet(*span);
            let first_line = snippet.split('\n').next().unwrap_or("");
            let len = first_line.chars().count().max(1);
            let len = len.min(text.chars().count().saturating_sub(start_col).max(1));
            let marks: String = std::iter::repeat_n(*mark, len).collect();
            let sep = if label.is_empty() { "" } else { " " };
            let _ = writeln!(out, "{pad} | {}{marks}{sep}{label}", " ".repeat(start_col));
        }
        if !self.notes.is_empty() || self.help.is_some() {
            let _ = writeln!(out, "{pad} |");
        }
        for n in &self.notes {
            let _ = writeln!(out, "{pad} = note: {n}");
        }
        if let Some(h) = &self.help {
            let _ = writeln!(out, "{pad} = help: {h}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_header_source_underline_note_and_help() {
        let mut sm = SourceMap::new();
        let f = sm.add("m.rrae", "model m {\n  input [1, 2]\n}\n");
        let d = Diagnostic::new("E000", "something is off", Span::new(f, 18, 24))
            .label("here")
            .note("a note")
            .help("a fix");
        let r = d.render(&sm);
        assert_eq!(
            r,
            "error[E000]: something is off\n --> m.rrae:2:9\n  |\n2 |   input [1, 2]\n  |         ^^^^^^ here\n  |\n  = note: a note\n  = help: a fix\n"
        );
    }
}
