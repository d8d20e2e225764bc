//! Atomic file output: every file is written to a temporary name in the same folder
//! and renamed, so a crash never leaves a half-written checkpoint, model or report.

use rrae_engine::error::{Result, RuntimeError};
use std::io::Write;
use std::path::Path;

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |source| RuntimeError::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_and_replaces_without_leaving_temporaries() {
        let dir = std::env::temp_dir().join(format!("rrae-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap(); // ok: test scaffolding
        let p = dir.join("a.json");
        super::write_atomic(&p, b"1").unwrap(); // ok: asserted below
        super::write_atomic(&p, b"22").unwrap(); // ok: asserted below
        assert_eq!(std::fs::read(&p).unwrap(), b"22"); // ok: test
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap() // ok: test
            .map(|e| e.unwrap().file_name()) // ok: test
            .collect(); // ok: test
        assert_eq!(names.len(), 1, "{names:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
