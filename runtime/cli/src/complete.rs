//! `rrae lsp`'s completion: what may be written where the cursor is. Layers and
//! blocks inside `encoder { }`, `decoder { }` and block bodies; latent operators on a
//! `latent` line; data sources after `data NAME =`; a block's own settings inside
//! `train { }` and `eval { }`; the item keywords at the top level. The context is read
//! from the text around the cursor, not the syntax tree, because while one types the
//! file rarely parses.

use lsp_types::{CompletionItem, CompletionItemKind};
use rrae_lang::ast::Item;
use rrae_lang::catalog;

/// Where the cursor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Inside an encoder, a decoder or a block body.
    Layers,
    /// On a `latent` line.
    Latent,
    /// After `data NAME =`.
    Data,
    /// Inside `train { }`.
    Train,
    /// Inside `eval { }`.
    Eval,
    /// Inside `model NAME { }`, between its sections.
    Model,
    /// Outside every block.
    Top,
}

/// The context at byte offset `at` of `text`.
pub fn context(text: &str, at: usize) -> Context {
    let at = (0..=at.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let before = &text[..at];
    // Comments and strings aside, the unmatched `{` before the cursor and its keyword.
    let line = before.rsplit('\n').next().unwrap_or("");
    let code_line = line.split('#').next().unwrap_or("").trim_start();
    if code_line.starts_with("latent") {
        return Context::Latent;
    }
    if code_line.starts_with("data ") && code_line.contains('=') {
        return Context::Data;
    }
    let mut depth = 0i32;
    let bytes = before.as_bytes();
    let mut i = bytes.len();
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b'}' => depth += 1,
            b'{' if depth > 0 => depth -= 1,
            b'{' => {
                let head = before[..i]
                    .rsplit(['\n', '{', '}'])
                    .next()
                    .unwrap_or("")
                    .trim();
                let word = head.split_whitespace().next().unwrap_or("");
                return match word {
                    "encoder" | "decoder" | "block" | "for" => Context::Layers,
                    "train" => Context::Train,
                    "eval" => Context::Eval,
                    "model" => Context::Model,
                    _ => Context::Layers,
                };
            }
            _ => {}
        }
    }
    Context::Top
}

/// The completions at `at` of the document `text` (`path` names it for the blocks it
/// defines), with the standard library's blocks.
pub fn completions(text: Option<(&str, &str)>, at: usize) -> Vec<CompletionItem> {
    let item = |label: &str, kind, detail: &str| CompletionItem {
        label: label.into(),
        kind: Some(kind),
        detail: Some(detail.into()),
        ..CompletionItem::default()
    };
    let ctx = text.map_or(Context::Top, |(_, t)| context(t, at));
    let mut out = vec![];
    match ctx {
        Context::Layers => {
            for op in catalog::LAYERS {
                out.push(item(op.name, CompletionItemKind::FUNCTION, op.doc));
            }
            let mut sources: Vec<(String, String)> = rrae_lang::loader::STDLIB
                .iter()
                .map(|(name, text)| (format!("stdlib {name}"), text.to_string()))
                .collect();
            if let Some((path, t)) = text {
                sources.push((path.to_string(), t.to_string()));
            }
            for (name, text) in &sources {
                if let (_, Ok(m)) = rrae_lang::parse(name, text) {
                    for it in &m.items {
                        if let Item::Block(b) = it {
                            let detail = format!("block from {name}");
                            out.push(item(&b.name.name, CompletionItemKind::MODULE, &detail));
                        }
                    }
                }
            }
        }
        Context::Latent => {
            for op in catalog::LATENT_OPS {
                out.push(item(op.name, CompletionItemKind::OPERATOR, op.doc));
            }
        }
        Context::Data => {
            for op in catalog::DATA_SOURCES {
                out.push(item(op.name, CompletionItemKind::CONSTRUCTOR, op.doc));
            }
        }
        Context::Train | Context::Eval => {
            let section = if ctx == Context::Train {
                &catalog::TRAIN
            } else {
                &catalog::EVAL
            };
            for p in section.params {
                let detail = format!("{} setting: {}", section.name, p.doc);
                out.push(item(p.name, CompletionItemKind::PROPERTY, &detail));
            }
        }
        Context::Model => {
            for (kw, doc) in [
                ("input", "the shape of one sample: input [C, H, W]"),
                ("encoder", "the encoder's layers: encoder { … }"),
                ("latent", "the latent operator: latent svd_truncate(k = 2)"),
                ("decoder", "the decoder's layers: decoder { … }"),
            ] {
                out.push(item(kw, CompletionItemKind::KEYWORD, doc));
            }
        }
        Context::Top => {
            for (kw, doc) in [
                ("use", "import a stdlib module or a file: use cnn"),
                ("let", "a file-level constant: let L = 64"),
                (
                    "block",
                    "a reusable layer sequence: block name(p: int = 1) { … }",
                ),
                ("data", "a data set: data NAME = source(…)"),
                (
                    "model",
                    "the model: model NAME { input … encoder … latent … decoder … }",
                ),
                ("train", "training settings: train { steps = 2000 … }"),
                (
                    "eval",
                    "evaluation settings: eval { random_samples = 250 … }",
                ),
            ] {
                out.push(item(kw, CompletionItemKind::KEYWORD, doc));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_place_gets_its_own_names() {
        let text = "use cnn\ndata d = gaussian_bumps(grid = 8)\nmodel m {\n    input [1, 8, 8]\n    encoder { flatten linear(4) }\n    latent svd_truncate(k = 2)\n    decoder { linear(64) }\n}\ntrain { steps = 3 }\neval { random_samples = 2 }\n";
        let at = |needle: &str| text.find(needle).unwrap_or(0) + needle.len(); // ok: test
        assert_eq!(context(text, at("encoder { flat")), Context::Layers);
        assert_eq!(context(text, at("decoder { lin")), Context::Layers);
        assert_eq!(context(text, at("latent svd")), Context::Latent);
        assert_eq!(context(text, at("data d = gau")), Context::Data);
        assert_eq!(context(text, at("train { st")), Context::Train);
        assert_eq!(context(text, at("eval { rand")), Context::Eval);
        assert_eq!(context(text, at("input [1, 8, 8]\n")), Context::Model);
        assert_eq!(context(text, at("use c")), Context::Top);
        let labels = |needle: &str| -> Vec<String> {
            completions(Some(("m.rrae", text)), at(needle))
                .into_iter()
                .map(|c| c.label)
                .collect()
        };
        let enc = labels("encoder { flat");
        assert!(enc.contains(&"conv2d".to_string()) && enc.contains(&"cnn_encoder".to_string()));
        assert!(!enc.contains(&"svd_truncate".to_string()), "{enc:?}");
        let lat = labels("latent svd");
        assert!(lat.contains(&"svd_truncate".to_string()) && !lat.contains(&"conv2d".to_string()));
        let tr = labels("train { st");
        assert!(tr.contains(&"lr".to_string()) && !tr.contains(&"random_samples".to_string()));
        // An unfinished file still gets its context.
        let broken = "model m {\n    encoder { conv2d(8, 3) rel";
        assert_eq!(context(broken, broken.len()), Context::Layers);
    }
}
