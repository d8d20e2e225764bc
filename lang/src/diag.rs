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
            let (text, start_col) = window(file.line_text(loc.line), loc.col.saturating_sub(1));
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{:>width$} | {}", loc.line, text);
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

/// Characters of a source line shown around a span, and how many of them precede it:
/// a generated file's 80 KB line would otherwise fill the terminal.
const WINDOW: usize = 160;
const BEFORE: usize = 60;

/// `text` cut to [`WINDOW`] characters around column `col` (0-based), with `…` where
/// it was cut, and the column within the cut line.
fn window(text: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= WINDOW {
        return (text.to_string(), col);
    }
    let from = col
        .saturating_sub(BEFORE)
        .min(chars.len().saturating_sub(WINDOW));
    let to = (from + WINDOW).min(chars.len());
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    shown.extend(&chars[from..to]);
    if to < chars.len() {
        shown.push('…');
    }
    (shown, col - from + usize::from(from > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_shown_around_the_span_only() {
        let line = format!("{}^{}", "a".repeat(5000), "b".repeat(5000));
        let (shown, col) = super::window(&line, 5000);
        assert_eq!(shown.chars().count(), super::WINDOW + 2, "{shown}");
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(shown.chars().nth(col), Some('^'));
        // Near either end, only that side is cut.
        let (start, col) = super::window(&line, 3);
        assert!(!start.starts_with('…') && start.ends_with('…') && col == 3);
        let (end, col) = super::window(&line, 9999);
        assert!(end.starts_with('…') && !end.ends_with('…'));
        assert_eq!(end.chars().nth(col), line.chars().last());
        assert_eq!(super::window("short", 2), ("short".to_string(), 2));
    }

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
