//! A scratch folder per test case, removed when the case ends, with the `rrae` binary
//! run inside it: shared by the golden tests that play a user (`#[path]`-included).

use std::path::PathBuf;
use std::process::{Command, Output};

pub struct Scratch(pub PathBuf);

#[allow(dead_code)] // each test file uses its own part of it
impl Scratch {
    /// An empty folder `rrae-{suite}-{case}-{pid}` under the temporary folder.
    pub fn new(suite: &str, case: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("rrae-{suite}-{case}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.0.join(name), bytes).unwrap();
    }
    /// The folder's entries, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
    /// `rrae ARGS` in the folder.
    pub fn rrae(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rrae"))
            .args(args)
            .current_dir(&self.0)
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap()
    }
}

#[allow(dead_code)] // each test file uses its own part of it
impl Scratch {
    /// The run folder `dir`'s loss trace: `losses.csv`'s rows less the timing column
    /// (the last), which is what two runs of one model share.
    pub fn trace(&self, dir: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(dir).join("losses.csv"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.rsplit_once(',').map_or(l, |x| x.0).to_string())
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
