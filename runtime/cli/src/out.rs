//! Standard output and error that never panic.
//!
//! `println!` panics when a write fails (`rrae check F > /dev/full`, a closed pipe).
//! These macros write and flush; the first failure on a stream is remembered, later
//! writes to it are skipped, and the command goes on: a run whose terminal went away
//! still trains, evaluates and writes its folder. `main` then exits non-zero, quietly
//! for a closed pipe (as `yes | head` does) and with one line on stderr otherwise.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

/// 0 while every write to the stream succeeded; else the exit code its failure asks for.
static OUT: AtomicU8 = AtomicU8::new(0);
static ERR: AtomicU8 = AtomicU8::new(0);

/// The status of a process that wrote into a closed pipe (128 + SIGPIPE).
const BROKEN_PIPE: u8 = 141;

fn write(
    w: &mut dyn Write,
    failed: &AtomicU8,
    args: std::fmt::Arguments,
) -> Option<std::io::Error> {
    if failed.load(Ordering::Relaxed) != 0 {
        return None;
    }
    let e = w.write_fmt(args).and_then(|()| w.flush()).err()?;
    let code = if e.kind() == ErrorKind::BrokenPipe {
        BROKEN_PIPE
    } else {
        1
    };
    failed.store(code, Ordering::Relaxed);
    (code != BROKEN_PIPE).then_some(e)
}

/// Writes to standard output (see [`out!`]).
pub fn stdout(args: std::fmt::Arguments) {
    if let Some(e) = write(&mut std::io::stdout().lock(), &OUT, args) {
        stderr(format_args!("rrae: cannot write to standard output: {e}\n"));
    }
}

/// Writes to standard error (see [`err!`]).
pub fn stderr(args: std::fmt::Arguments) {
    let _ = write(&mut std::io::stderr().lock(), &ERR, args);
}

/// The exit code a failed write asks for, if any did fail.
pub fn failed() -> Option<ExitCode> {
    let code = OUT.load(Ordering::Relaxed).max(ERR.load(Ordering::Relaxed));
    (code != 0).then(|| ExitCode::from(code))
}

/// `print!` that never panics.
macro_rules! out {
    ($($t:tt)*) => { $crate::out::stdout(format_args!($($t)*)) };
}

/// `println!` that never panics.
macro_rules! outln {
    () => { $crate::out::stdout(format_args!("\n")) };
    ($($t:tt)*) => { $crate::out::stdout(format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprint!` that never panics.
macro_rules! err {
    ($($t:tt)*) => { $crate::out::stderr(format_args!($($t)*)) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    () => { $crate::out::stderr(format_args!("\n")) };
    ($($t:tt)*) => { $crate::out::stderr(format_args!("{}\n", format_args!($($t)*))) };
}
