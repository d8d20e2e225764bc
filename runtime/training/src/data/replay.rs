//! Replaying another program's batch order: the experiment hook behind
//! `RRAE_BATCH_ORDER=FILE`, with which rrae trains on exactly the batches another
//! framework drew (`bench/torch_rrae.py --export`), so that two implementations can be
//! compared from the same initial weights (`RRAE_INIT`) on the same batches.
//!
//! The file is JSON: `{"train": [[i, …], …], "fine_tune": [[i, …], …]}`, one list of
//! sample indices per step (the format of the `batch_order` example).

use crate::control::Phase;
use crate::error::{Result, TrainError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One phase's batches, in the order they are trained on.
pub type Order = Arc<Vec<Vec<usize>>>;

/// The two phases' replayed orders.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    pub train: Option<Order>,
    pub fine_tune: Option<Order>,
}

impl Replay {
    /// `RRAE_BATCH_ORDER`'s file, checked against `n` samples and batches of `batch`;
    /// no orders when the variable is unset.
    pub fn from_env(n: usize, batch: usize) -> Result<Replay> {
        match std::env::var_os("RRAE_BATCH_ORDER") {
            Some(p) => Replay::read(Path::new(&p), n, batch),
            None => Ok(Replay::default()),
        }
    }

    pub fn read(path: &Path, n: usize, batch: usize) -> Result<Replay> {
        let bad = |reason: String| TrainError::data(PathBuf::from(path), reason);
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let phase = |key: &str| -> Result<Option<Order>> {
            let Some(list) = v.get(key) else {
                return Ok(None);
            };
            let order: Vec<Vec<usize>> = serde_json::from_value(list.clone())
                .map_err(|e| bad(format!("`{key}` is not a list of index lists: {e}")))?;
            if order.is_empty() {
                return Err(bad(format!("`{key}` has no batches")));
            }
            for (s, b) in order.iter().enumerate() {
                if b.len() != batch {
                    return Err(bad(format!(
                        "`{key}` batch {s} has {} samples, the run's batch is {batch}",
                        b.len()
                    )));
                }
                if let Some(&i) = b.iter().find(|&&i| i >= n) {
                    return Err(bad(format!(
                        "`{key}` batch {s} names sample {i}; the training set has {n}"
                    )));
                }
            }
            Ok(Some(Arc::new(order)))
        };
        Ok(Replay {
            train: phase("train")?,
            fine_tune: phase("fine_tune")?,
        })
    }

    pub fn order(&self, phase: Phase) -> Option<Order> {
        match phase {
            Phase::Train => self.train.clone(),
            Phase::FineTune => self.fine_tune.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("rrae-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap(); // ok: test
        let p = dir.join(format!("{}.json", N.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&p, text).unwrap(); // ok: test
        p
    }

    #[test]
    fn reads_both_phases_and_checks_them() {
        let f = file(r#"{"train": [[0, 1], [2, 3]], "fine_tune": [[3, 2]]}"#);
        let r = Replay::read(&f, 4, 2).unwrap(); // ok: test
        let train = r.order(Phase::Train).unwrap(); // ok: test
        assert_eq!(*train, vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(*r.order(Phase::FineTune).unwrap(), vec![vec![3, 2]]); // ok: test
        let only = file(r#"{"train": [[0, 1]]}"#);
        assert!(Replay::read(&only, 4, 2).unwrap().fine_tune.is_none()); // ok: test

        for (text, says) in [
            (
                r#"{"train": [[0, 4]]}"#,
                "names sample 4; the training set has 4",
            ),
            (
                r#"{"train": [[0]]}"#,
                "batch 0 has 1 samples, the run's batch is 2",
            ),
            (r#"{"train": []}"#, "`train` has no batches"),
            (r#"{"train": [[0, -1]]}"#, "not a list of index lists"),
            (r#"{"train": "#, "not JSON"),
        ] {
            let f = file(text);
            let e = Replay::read(&f, 4, 2).unwrap_err().to_string(); // ok: test
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
