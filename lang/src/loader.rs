//! Where imported files come from: the stdlib compiled into the binary, and files on
//! disk (or in memory, for tests and fuzzing).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The stdlib modules, written in the language itself (`stdlib/*.rrae`).
pub const STDLIB: &[(&str, &str)] = &[
    ("cnn", include_str!("../../stdlib/cnn.rrae")),
    ("mlp", include_str!("../../stdlib/mlp.rrae")),
];

pub fn stdlib(name: &str) -> Option<&'static str> {
    STDLIB.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Reads the files a program imports.
pub trait Loader {
    fn read(&self, path: &Path) -> Result<String, String>;
}

/// Reads from the file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct FsLoader;

impl Loader for FsLoader {
    fn read(&self, path: &Path) -> Result<String, String> {
        crate::files::read_text(path, crate::files::TEXT_CAP)
    }
}

/// A source file's text (`files.rs` reads text files; the loader is one reader of them).
pub use crate::files::source_text;

#[cfg(test)]
mod tests {
    use super::source_text;

    #[test]
    fn text_is_utf8_without_a_byte_order_mark_and_bad_bytes_are_located() {
        assert_eq!(
            source_text(b"\xef\xbb\xbfmodel m {}".to_vec()).unwrap(), // ok: test
            "model m {}"
        );
        assert_eq!(source_text("λ = 1".as_bytes().to_vec()).unwrap(), "λ = 1"); // ok: test
        let e = source_text(b"let a = 1\nlet \xe9 = 2\n".to_vec()).unwrap_err();
        assert_eq!(
            e,
            "not UTF-8 text: byte 0xe9 at line 2, column 5 (byte offset 14); save the file as UTF-8"
        );
    }
}

/// Serves files from a map, for tests and fuzzing.
#[derive(Clone, Debug, Default)]
pub struct MemLoader {
    pub files: HashMap<PathBuf, String>,
}

impl MemLoader {
    pub fn with(mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        self.files.insert(path.into(), text.into());
        self
    }
}

impl Loader for MemLoader {
    fn read(&self, path: &Path) -> Result<String, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_string())
    }
}

/// `dir/rel` with `.` and `..` folded, so the same file always gets the same name.
pub fn join(dir: &Path, rel: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in dir.join(rel).components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => match out.components().next_back() {
                Some(std::path::Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}
