//! The trend test of the `trend` search: how many more steps the loss at the current
//! k would need to reach the target if it kept falling as it did lately.
//!
//! Algorithm 1 gives a rank up only once its loss has stagnated (improved by less
//! than the tolerance per window) for `patience` steps. A rank that keeps improving a
//! little is seldom stagnant, so on the Gaussian bumps giving up the last rank took
//! Algorithm 1 2093–3097 steps, 38–74 % of its search (docs/results.md). The trend
//! test asks instead whether the loss is on course: the means of whole windows at this
//! k (blocks of `window` steps from the first step at k) give a geometric rate,
//! `ln(P / L) / SPAN` per window between the block `SPAN` windows back (P) and the last
//! one (L), and the steps still needed are `window · ln(L / target)` over that rate
//! (infinite when the loss did not fall). Whole blocks, not single steps, so that
//! minibatch noise is averaged out.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Windows between the two block means the rate is taken from: three windows (300
/// steps by default) average out minibatch noise that one window pair does not.
pub const SPAN: usize = 3;

/// The test only judges a rank whose last window's mean is over `FAR` times the target.
/// Closer, a rank reaches the target when one minibatch's loss dips below it (the
/// target is a window mean, the test one step's loss), which a trend of means cannot
/// foresee: on Fashion-MNIST, Algorithm 1 kept k = 8 after 1011 steps at ~1.25 times
/// the target, where the trend said ~9200 more. The bumps' failing ranks sit at 6–9
/// times the target after 1000 steps.
pub const FAR: f64 = 2.0;

/// Block means of the losses at the current k.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    window: usize,
    /// Losses at this k so far.
    steps: usize,
    /// The open block's sum.
    sum: f64,
    /// The last `SPAN + 1` complete blocks' means.
    means: VecDeque<f64>,
}

impl Trend {
    pub fn new(window: usize) -> Trend {
        Trend {
            window: window.max(1),
            ..Trend::default()
        }
    }

    /// Adds a step's loss; `true` when it completed a block.
    pub fn push(&mut self, loss: f64) -> bool {
        self.steps += 1;
        self.sum += loss;
        // `max(1)`: a default (deserialized) history has no window yet.
        if !self.steps.is_multiple_of(self.window.max(1)) {
            return false;
        }
        if self.means.len() == SPAN + 1 {
            self.means.pop_front();
        }
        self.means.push_back(self.sum / self.window.max(1) as f64);
        self.sum = 0.0;
        true
    }

    /// Forgets the history (k changed or a checkpoint was restored).
    pub fn clear(&mut self) {
        *self = Trend::new(self.window);
    }

    /// Steps trained at this k.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// `(P, L)`: the block means `SPAN` windows apart, once there are `SPAN + 1` blocks.
    pub fn ends(&self) -> Option<(f64, f64)> {
        (self.means.len() == SPAN + 1).then(|| (self.means[0], self.means[SPAN]))
    }

    /// Steps the loss would still need to reach `target` at its recent geometric rate:
    /// `Some(0.0)` when the last block is at or below it, `Some(∞)` when the loss did not
    /// fall over the span, `None` before `SPAN + 1` blocks or for a target ≤ 0 (no
    /// ratio to take).
    pub fn steps_needed(&self, target: f64) -> Option<f64> {
        let (p, l) = self.ends()?;
        if !(target > 0.0 && p.is_finite() && l.is_finite()) {
            return None;
        }
        if l <= target {
            return Some(0.0);
        }
        if p <= l {
            return Some(f64::INFINITY);
        }
        let per_window = (p / l).ln() / SPAN as f64;
        Some(self.window as f64 * (l / target).ln() / per_window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_complete_every_window_and_keep_span_plus_one() {
        let mut t = Trend::new(2);
        let done: Vec<bool> = (0..10).map(|i| t.push(i as f64)).collect();
        assert_eq!(
            done,
            [false, true, false, true, false, true, false, true, false, true]
        );
        // Blocks (0,1) (2,3) (4,5) (6,7) (8,9): the first dropped, means 2.5 … 8.5.
        assert_eq!(t.ends(), Some((2.5, 8.5)));
        assert_eq!(t.steps(), 10);
        t.clear();
        assert_eq!((t.steps(), t.ends()), (0, None));
        assert_eq!(t.steps_needed(1.0), None);
    }

    #[test]
    fn steps_needed_extrapolates_the_geometric_rate() {
        // Block means 8, 4, 2, 1 (halving per window of 10 steps): from 1 to a target
        // of 0.25 is two more halvings, 20 steps.
        let mut t = Trend::new(10);
        for m in [8.0, 4.0, 2.0, 1.0] {
            for _ in 0..10 {
                t.push(m);
            }
        }
        let n = t.steps_needed(0.25).unwrap(); // ok: test
        assert!((n - 20.0).abs() < 1e-9, "{n}");
        // At or below the target: nothing needed.
        assert_eq!(t.steps_needed(1.0), Some(0.0));
        // A loss that did not fall never gets there; a target ≤ 0 has no ratio.
        let mut flat = Trend::new(1);
        for m in [3.0, 2.0, 2.5, 3.0] {
            flat.push(m);
        }
        assert_eq!(flat.steps_needed(1.0), Some(f64::INFINITY));
        assert_eq!(flat.steps_needed(0.0), None);
        // A NaN block is not a trend.
        let mut nan = Trend::new(1);
        for m in [f64::NAN, 2.0, 2.0, 1.0] {
            nan.push(m);
        }
        assert_eq!(nan.steps_needed(0.5), None);
    }
}
