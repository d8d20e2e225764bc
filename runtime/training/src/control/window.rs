//! Loss history at the current k and the stagnation test the controller uses.
//!
//! Per-step losses are minibatch losses and noisy, so stagnation compares the mean of
//! the last `window` losses with the mean of the `window` before them: training has
//! stagnated when that relative improvement is below `tolerance` (a loss that got
//! worse has stagnated too). Only losses at the current k count; the history is
//! cleared whenever k changes or a checkpoint is restored.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    window: usize,
    losses: VecDeque<f64>,
}

/// The two window means compared by the stagnation test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Means {
    pub previous: f64,
    pub last: f64,
}

impl Means {
    /// `(previous − last) / |previous|`: how much the last window improved on the one before.
    pub fn improvement(&self) -> f64 {
        (self.previous - self.last) / self.previous.abs().max(f64::MIN_POSITIVE)
    }
}

impl Window {
    pub fn new(window: usize) -> Window {
        let window = window.max(1);
        Window {
            window,
            losses: VecDeque::with_capacity(2 * window),
        }
    }

    pub fn push(&mut self, loss: f64) {
        if self.losses.len() == 2 * self.window {
            self.losses.pop_front();
        }
        self.losses.push_back(loss);
    }

    pub fn clear(&mut self) {
        self.losses.clear();
    }

    /// The means of the two last windows, once `2 · window` losses are in.
    pub fn means(&self) -> Option<Means> {
        if self.losses.len() < 2 * self.window {
            return None;
        }
        let w = self.window as f64;
        let previous = self.losses.iter().take(self.window).sum::<f64>() / w;
        let last = self.losses.iter().skip(self.window).sum::<f64>() / w;
        Some(Means { previous, last })
    }

    /// `Some(means)` when training has stagnated: the last window improved on the
    /// one before by less than `tolerance`, relatively.
    pub fn stagnated(&self, tolerance: f64) -> Option<Means> {
        self.means().filter(|m| m.improvement() < tolerance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_two_full_windows() {
        let mut w = Window::new(3);
        for _ in 0..5 {
            w.push(1.0);
            assert!(w.means().is_none());
        }
        w.push(1.0);
        assert_eq!(
            w.means(),
            Some(Means {
                previous: 1.0,
                last: 1.0
            })
        );
    }

    #[test]
    fn stagnation_is_relative_improvement_below_tolerance() {
        let mut w = Window::new(2);
        // previous window mean 10, last 9.95: 0.5 % better.
        for l in [10.0, 10.0, 9.95, 9.95] {
            w.push(l);
        }
        assert!(w.stagnated(0.01).is_some());
        assert!(w.stagnated(0.001).is_none());
        // Getting worse counts as stagnation.
        let mut w = Window::new(1);
        w.push(1.0);
        w.push(2.0);
        assert!(w.stagnated(0.01).is_some());
        // Only the last 2·window losses count.
        let mut w = Window::new(1);
        for l in [100.0, 1.0, 0.5] {
            w.push(l);
        }
        let m = w.means().unwrap(); // ok: test
        assert_eq!((m.previous, m.last), (1.0, 0.5));
        assert!(w.stagnated(0.01).is_none());
    }
}
