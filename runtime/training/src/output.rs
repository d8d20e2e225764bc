//! Atomic file output: every file is written to a temporary name in the same folder
//! and renamed, so a crash never leaves a half-written checkpoint, model or report.

use crate::error::{Result, TrainError};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |source| TrainError::write(path.to_path_buf(), source);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    let result = written.and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        // A full disk must not stay full of our half-written temporary.
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// `path` replaced by `bytes` atomically (a full disk leaves the old file, never an
/// empty one), then opened for appending.
pub fn rewritten(path: &Path, bytes: &[u8]) -> Result<BufWriter<File>> {
    write_atomic(path, bytes)?;
    let f = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| TrainError::write(path.to_path_buf(), e))?;
    Ok(BufWriter::new(f))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failed_write_leaves_neither_a_temporary_nor_a_changed_target() {
        let dir = std::env::temp_dir().join(format!("rrae-out-fail-{}", std::process::id()));
        // The target is a non-empty folder: the rename fails after the write succeeded.
        let target = dir.join("model.rra");
        std::fs::create_dir_all(target.join("inside")).unwrap(); // ok: test scaffolding
        let e = super::write_atomic(&target, b"bytes").unwrap_err(); // ok: asserted error
        assert!(e.to_string().contains("model.rra"), "{e}");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap() // ok: test
            .map(|e| e.unwrap().file_name()) // ok: test
            .collect(); // ok: test
        names.sort();
        assert_eq!(names, ["model.rra"], "no temporary left");
        assert!(target.join("inside").is_dir());
        let _ = std::fs::remove_dir_all(&dir);
    }

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
