//! Wall time by label, for `RRAE_DEBUG=1`: the forward per layer (the trainer's
//! [`Profile`]) and the backward per op (the tape's, [`crate::tape::timing`]).

use std::time::{Duration, Instant};

/// Total time and call count per label, in first-seen order.
#[derive(Default, Debug)]
pub struct Profile {
    pub rows: Vec<(String, Duration, usize)>,
}

impl Profile {
    /// Adds one call of `d` under `label`.
    pub fn add(&mut self, label: &str, d: Duration) {
        match self.rows.iter_mut().find(|r| r.0 == label) {
            Some(r) => {
                r.1 += d;
                r.2 += 1;
            }
            None => self.rows.push((label.to_string(), d, 1)),
        }
    }

    /// Adds the time since `t0` under `label`.
    pub fn record(&mut self, label: &str, t0: Instant) {
        self.add(label, t0.elapsed());
    }
}
