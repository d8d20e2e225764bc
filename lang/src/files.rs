//! How rrae opens a file a user names: only a regular file, never blocking, and read no
//! further than a stated cap.
//!
//! A model file names paths (`use`, data files, `partition =`, `labels =`, parameter
//! arrays, image entries), and a hostile or careless one can name a FIFO (`open`
//! blocks until a writer appears, so `check`, `run` and the language server hung), a
//! device (`/dev/zero` grows a buffer until memory runs out) or a folder. Every such
//! read goes through [`open_regular`]: the file is opened non-blocking and checked with
//! `fstat` on the descriptor it got (no race with a swapped path), and anything but a
//! regular file is an error naming what it is. [`read_capped`] then reads at most its
//! cap, and says the cap when a file is larger.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The most a text file the language reads whole may hold (a `use`d file, a
/// partition or labels file): 64 MiB, far past any real one, and little enough to read.
pub const TEXT_CAP: u64 = 64 << 20;

/// Opens `path` for reading if it is a regular file. A FIFO, socket or device is
/// refused without blocking; a folder is refused too.
pub fn open_regular(path: &Path) -> Result<File, String> {
    let f = open_nonblocking(path).map_err(|e| format!("cannot open: {e}"))?;
    let meta = f.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_file() {
        return Ok(f);
    }
    Err(format!(
        "is {}, not a regular file: rrae reads only regular files",
        kind(&meta)
    ))
}

/// The whole of the regular file `path`, if it holds at most `cap` bytes.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let f = open_regular(path)?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > cap {
        return Err(too_large(len, cap));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    // A file that grew while it was read is held to the same cap.
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64, cap));
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text (a byte-order mark dropped, as in model files).
pub fn read_text(path: &Path, cap: u64) -> Result<String, String> {
    source_text(read_capped(path, cap)?)
}

/// A source file's text: UTF-8, with a leading byte-order mark dropped (editors on
/// Windows write one). Bytes that are not UTF-8 are an error naming where they are.
pub fn source_text(bytes: Vec<u8>) -> Result<String, String> {
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..'\u{feff}'.len_utf8());
            }
            Ok(s)
        }
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let before = &bytes[..at];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            let col = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            Err(format!(
                "not UTF-8 text: byte 0x{:02x} at line {line}, column {col} (byte offset {at}); save the file as UTF-8",
                bytes[at]
            ))
        }
    }
}

fn too_large(len: u64, cap: u64) -> String {
    format!(
        "is {len} bytes, over the {} MiB rrae reads of such a file",
        cap >> 20
    )
}

fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    "not a regular file"
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a
    // writer; on a regular file it changes nothing (reads of regular files never block).
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("rrae-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap(); // ok: test
        d
    }

    #[test]
    fn a_regular_file_is_read_and_a_larger_one_refused_with_the_cap() {
        let d = scratch("cap");
        let p = d.join("a.txt");
        std::fs::write(&p, vec![b'x'; 3 << 20]).unwrap(); // ok: test
        assert_eq!(read_capped(&p, 4 << 20).unwrap().len(), 3 << 20); // ok: test
        let e = read_capped(&p, 2 << 20).unwrap_err();
        assert_eq!(
            e,
            "is 3145728 bytes, over the 2 MiB rrae reads of such a file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_a_device_and_a_folder_are_refused_at_once() {
        let d = scratch("special");
        let fifo = d.join("pipe.png");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap(); // ok: test
        assert!(ok.success());
        // A blocking open would never return here (no writer ever comes).
        let e = read_capped(&fifo, TEXT_CAP).unwrap_err();
        assert!(
            e.starts_with("is a FIFO (named pipe), not a regular file"),
            "{e}"
        );
        let e = read_capped(Path::new("/dev/zero"), TEXT_CAP).unwrap_err();
        assert!(e.starts_with("is a device, not a regular file"), "{e}");
        let e = read_capped(&d, TEXT_CAP).unwrap_err();
        assert!(e.starts_with("is a folder, not a regular file"), "{e}");
    }
}
