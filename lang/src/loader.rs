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
        std::fs::read_to_string(path).map_err(|e| e.to_string())
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
