//! The `.rrae` language: parse → resolve → shape-check → IR.
//!
//! ```
//! let out = rrae_lang::check_str("m.rrae", "model m { input [4] encoder { linear(8) } latent svd_truncate(k = 2) decoder { linear(4) } }");
//! assert_eq!(out.result.unwrap().latent.dim, 8); // ok: doc example
//! ```

pub mod ast;
pub mod catalog;
pub mod checks;
pub mod diag;
pub mod error;
pub mod eval;
pub mod files;
pub mod fmt;
pub mod images;
pub mod infer;
pub mod ir;
pub mod latent;
pub mod layer;
pub mod loader;
pub mod memory;
pub mod params;
pub mod parser;
pub mod probe;
pub mod resolve;
pub mod set;
mod settings;
pub mod shape;
pub mod signature;
pub mod span;
pub mod suggest;
pub mod value;

pub use error::{Error, ErrorKind};
pub use ir::Ir;
pub use loader::{source_text, FsLoader, Loader, MemLoader};
pub use span::SourceMap;

/// The outcome of checking one program: every source read, and the IR or the error.
pub struct Checked {
    pub sources: SourceMap,
    pub result: Result<Ir, Error>,
}

impl Checked {
    /// The rendered diagnostic, if checking failed.
    pub fn render_error(&self) -> Option<String> {
        self.result
            .as_ref()
            .err()
            .map(|e| e.diagnostic().render(&self.sources))
    }
}

/// Check a program given as text; `name` is its path (imports resolve next to it).
pub fn check_with(name: &str, text: &str, loader: &dyn Loader) -> Checked {
    let mut sources = SourceMap::new();
    let result = resolve::Resolver::new(&mut sources, loader)
        .resolve(name, text.to_string())
        .and_then(|r| infer::infer(&r));
    Checked { sources, result }
}

/// Check a program given as text, reading imports from disk.
pub fn check_str(name: &str, text: &str) -> Checked {
    check_with(name, text, &FsLoader)
}

/// Parse only (for `rrae fmt` and the AST snapshots).
pub fn parse(name: &str, text: &str) -> (SourceMap, Result<ast::Module, Error>) {
    let mut sources = SourceMap::new();
    let file = sources.add(name, text);
    let r = parser::parse_module(file, text).map_err(|e| resolve::syntax_error(file, e));
    (sources, r)
}
