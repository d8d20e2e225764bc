//! Colour for diagnostics on a terminal, as rustc shows them: the `error[E…]` header
//! in bold red, the gutter and `-->` in blue, the primary underline in red, the
//! secondary in blue, `note:` and `help:` in bold. Whether to is `anstream`'s answer
//! for standard error (the crate clap colours its help with): a terminal, unless
//! `NO_COLOR` (<https://no-color.org>) or `TERM=dumb`; `CLICOLOR_FORCE` forces it.
//! Pipes, files and the tests get the plain text the snapshots hold. Painted on the
//! rendered text, so the one renderer (`rrae_lang::diag`) stays plain; the styles are
//! `anstyle`'s.

use anstyle::{AnsiColor, Color, Style};

const RED: Style = Style::new()
    .bold()
    .fg_color(Some(Color::Ansi(AnsiColor::Red)));
const BLUE: Style = Style::new()
    .bold()
    .fg_color(Some(Color::Ansi(AnsiColor::Blue)));
const BOLD: Style = Style::new().bold();
const RESET: anstyle::Reset = anstyle::Reset;

/// Whether diagnostics on standard error are painted.
pub fn enabled() -> bool {
    !matches!(
        anstream::AutoStream::choice(&std::io::stderr()),
        anstream::ColorChoice::Never
    )
}

/// `diag` painted when [`enabled`], else as it is.
pub fn diagnostic(diag: &str) -> String {
    if enabled() {
        paint(diag)
    } else {
        diag.to_string()
    }
}

/// The rendered diagnostic with ANSI colours.
pub fn paint(diag: &str) -> String {
    let mut out = String::with_capacity(diag.len() + 64);
    for line in diag.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(&paint_line(body));
        out.push_str(nl);
    }
    out
}

fn paint_line(line: &str) -> String {
    if let Some(rest) = line.strip_prefix("error") {
        if let Some(end) = rest.find("]: ") {
            let (code, msg) = rest.split_at(end + 1);
            return format!("{RED}error{code}{RESET}{BOLD}{msg}{RESET}");
        }
        return format!("{RED}{line}{RESET}");
    }
    // The gutter: `  --> file`, `  |`, `12 |   text`, `   = note: …`.
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    for arrow in ["-->", ":::"] {
        if let Some(rest) = trimmed.strip_prefix(arrow) {
            return format!("{indent}{BLUE}{arrow}{RESET}{rest}");
        }
    }
    if let Some(rest) = trimmed.strip_prefix('=') {
        for word in [" note:", " help:"] {
            if let Some(r) = rest.strip_prefix(word) {
                return format!("{indent}{BLUE}={RESET}{BOLD}{word}{RESET}{r}");
            }
        }
    }
    if let Some(bar) = line.find(" |") {
        let (number, rest) = line.split_at(bar + 2);
        if number
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || c == '|' || c == ' ')
        {
            let marks = rest.trim_start();
            let painted = if marks.starts_with('^') {
                format!("{RED}{rest}{RESET}")
            } else if marks.starts_with('-') {
                format!("{BLUE}{rest}{RESET}")
            } else {
                rest.to_string()
            };
            return format!("{BLUE}{number}{RESET}{painted}");
        }
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_of_a_diagnostic_get_their_colours_and_the_text_is_kept() {
        let plain = "error[E034]: rank k = 40 exceeds\n  --> m.rrae:14:29\n   |\n14 |     latent svd(k = 40)\n   |                 ^^ k = 40\n   = help: use k ≤ 32\n";
        let p = paint(plain);
        assert!(
            p.starts_with("\x1b[1m\x1b[31merror[E034]\x1b[0m\x1b[1m: rank k = 40 exceeds\x1b[0m\n"),
            "{p:?}"
        );
        assert!(
            p.contains("  \x1b[1m\x1b[34m-->\x1b[0m m.rrae:14:29\n"),
            "{p:?}"
        );
        assert!(
            p.contains("\x1b[1m\x1b[31m                 ^^ k = 40\x1b[0m"),
            "{p:?}"
        );
        assert!(
            p.contains("\x1b[1m\x1b[34m=\x1b[0m\x1b[1m help:\x1b[0m use k ≤ 32"),
            "{p:?}"
        );
        // Without the escapes it is the plain text again.
        let stripped = p
            .split('\x1b')
            .enumerate()
            .map(|(i, s)| {
                if i == 0 {
                    s
                } else {
                    s.split_once('m').map_or(s, |x| x.1)
                }
            })
            .collect::<String>();
        assert_eq!(stripped, plain);
    }
}
