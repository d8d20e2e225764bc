//! One process per run folder. `rrae run` (and `compare`, which runs it) and `rrae eval`
//! hold the folder's `.lock`, holding the PID, while they write, so two runs into one
//! `--out` cannot interleave their logs; the lock goes when the holder ends, and a lock
//! left by a killed process is taken over.

use crate::error::{Result, RunError};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The lock's file name in a run folder.
pub const FILE: &str = ".lock";

/// An unreadable lock younger than this may be one being written: it counts as held.
const WRITING: Duration = Duration::from_secs(10);

/// A held run-folder lock; dropping it releases the folder.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

impl RunLock {
    /// Takes `dir`'s lock, or says which process holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let path = dir.join(FILE);
        let write_err = |source| RunError::write(path.clone(), source);
        // Twice: the second try follows the removal of a stale lock.
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id()).map_err(write_err)?;
                    return Ok(RunLock { path });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    match holder(&path) {
                        Holder::Running(pid) => return Err(RunError::InUse { lock: path, pid }),
                        Holder::Gone => {
                            let _ = std::fs::remove_file(&path);
                        }
                        Holder::NotALock => return Err(RunError::read(
                            path,
                            "is not a file, so not the lock rrae writes; nothing was changed\n  \
                             help: remove it if no rrae process uses this folder",
                        )),
                    }
                }
                Err(e) => return Err(write_err(e)),
            }
        }
        Err(RunError::InUse {
            lock: path,
            pid: None,
        })
    }
}

/// The rrae process training in `dir` now, if one holds its lock (its PID when known).
pub fn held_by(dir: &Path) -> Option<Option<u32>> {
    match holder(&dir.join(FILE)) {
        Holder::Running(pid) => dir.join(FILE).exists().then_some(pid),
        Holder::Gone | Holder::NotALock => None,
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

enum Holder {
    /// An rrae process that runs (its PID, when the lock could be read).
    Running(Option<u32>),
    Gone,
    /// A folder (or anything but a file) where the lock would be: not rrae's to remove.
    NotALock,
}

fn holder(lock: &Path) -> Holder {
    if std::fs::symlink_metadata(lock).is_ok_and(|m| !m.is_file()) {
        return Holder::NotALock;
    }
    let text = std::fs::read_to_string(lock).ok();
    let text = text.as_deref().map(str::trim);
    match text.map(str::parse::<u32>) {
        // A PID that now belongs to another program (reused since) holds nothing.
        Some(Ok(pid)) if alive(pid) && is_rrae(pid) => Holder::Running(Some(pid)),
        Some(Ok(_)) => Holder::Gone,
        // rrae writes its PID in one write: text that is not one is no lock of rrae's.
        Some(Err(_)) if text.is_some_and(|t| !t.is_empty()) => Holder::Gone,
        Some(Err(_)) | None => {
            let age = std::fs::metadata(lock)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok());
            if age.is_some_and(|a| a > WRITING) {
                Holder::Gone
            } else {
                Holder::Running(None)
            }
        }
    }
}

/// Whether process `pid` is an rrae: this process, or one whose command name is `rrae`
/// (`/proc/PID/comm`); where that cannot be read, it is taken to be one.
fn is_rrae(pid: u32) -> bool {
    pid == std::process::id()
        || std::fs::read_to_string(format!("/proc/{pid}/comm")).map_or(true, |c| c.trim() == "rrae")
}

/// Whether process `pid` runs: through `/proc` where there is one; elsewhere every
/// holder is taken to run (the message says how to remove a stale lock).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.is_dir() {
        return true;
    }
    // A zombie has exited (killed, its parent gone before reaping it: a rank of an
    // MPI job that was killed); its state is the field after the name's `)`.
    match std::fs::read_to_string(proc.join(pid.to_string()).join("stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rrae-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap(); // ok: test scaffolding
        d
    }

    #[test]
    fn a_held_folder_is_refused_and_free_again_once_released() {
        let d = scratch("held");
        let lock = RunLock::acquire(&d).unwrap(); // ok: asserted below
        let held = std::fs::read_to_string(d.join(FILE)).unwrap(); // ok: test
        assert_eq!(held.trim(), std::process::id().to_string());
        match RunLock::acquire(&d) {
            Err(RunError::InUse { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("a second holder: {other:?}"), // ok: test
        }
        drop(lock);
        assert!(!d.join(FILE).exists());
        assert!(RunLock::acquire(&d).is_ok());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_lock_of_a_process_that_is_gone_is_taken_over() {
        let d = scratch("stale");
        // PIDs are below 2^22 on Linux: this one runs nowhere.
        std::fs::write(d.join(FILE), "4194305\n").unwrap(); // ok: test scaffolding
        let lock = RunLock::acquire(&d);
        assert!(lock.is_ok(), "{lock:?}");
        drop(lock);
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A live process that is not rrae (the PID was reused), text that is no PID, and
    /// a folder named `.lock`: the first two are taken over, the folder is refused.
    #[test]
    fn a_lock_of_another_program_or_of_garbage_is_taken_over_and_a_folder_refused() {
        let d = scratch("foreign");
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap(); // ok: test
        std::fs::write(d.join(FILE), format!("{}\n", sleeper.id())).unwrap(); // ok: test
        let lock = RunLock::acquire(&d);
        assert!(lock.is_ok(), "a sleep's PID holds nothing: {lock:?}");
        drop(lock);
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        std::fs::write(d.join(FILE), "not a pid\n").unwrap(); // ok: test
        let lock = RunLock::acquire(&d);
        assert!(lock.is_ok(), "{lock:?}");
        drop(lock);
        std::fs::create_dir(d.join(FILE)).unwrap(); // ok: test
        let e = RunLock::acquire(&d).unwrap_err().to_string();
        assert!(
            e.contains(".lock") && e.contains("is not a file, so not the lock rrae writes"),
            "{e}"
        );
        assert!(d.join(FILE).is_dir(), "the folder is left as it was");
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A killed MPI rank whose parent is gone stays a zombie until something reaps it;
    /// it has exited, so its lock is stale.
    #[test]
    fn the_lock_of_a_zombie_is_taken_over() {
        let d = scratch("zombie");
        let mut child = std::process::Command::new("true").spawn().unwrap(); // ok: test
                                                                             // Not reaped yet: the child is a zombie once it has exited.
        let stat = format!("/proc/{}/stat", child.id());
        let t0 = std::time::Instant::now();
        while !std::fs::read_to_string(&stat).is_ok_and(|s| s.contains(") Z")) {
            assert!(t0.elapsed().as_secs() < 10, "the child never exited");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::fs::write(d.join(FILE), format!("{}\n", child.id())).unwrap(); // ok: test scaffolding
        let lock = RunLock::acquire(&d);
        assert!(lock.is_ok(), "{lock:?}");
        drop(lock);
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&d);
    }
}
