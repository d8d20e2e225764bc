//! Where an adaptive search's training steps went. Comparing searches is comparing
//! these numbers: on the bumps, Algorithm 1 spends most of its steps re-learning the
//! target at k* and giving up on k* − 1, not on the ranks it walks past
//! (docs/results.md), and a run says so at its end:
//! `warm-up 368 + kept ranks 2013 + given up 2422 (k = 1) + settling 458 = 5261`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Training steps of a search by what they were spent on; they add up to the training
/// phase's steps. A segment is counted when the decision that ends it is taken.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchSteps {
    /// Training at the first rank until the loss stagnated (the target's steps).
    pub warmup: usize,
    /// Steps at ranks whose checkpoint was kept: each reached the target (Algorithm 1,
    /// bisect) or stagnated and was grown past (parsimonious).
    pub kept: usize,
    /// Steps at ranks that were given up (stagnated above the target, a mode that did
    /// not help, or a probe cut short by the step budget): training that was thrown away.
    pub given_up: usize,
    /// The ranks given up, in order.
    pub given_up_ranks: Vec<usize>,
    /// Steps at k* after the search ended, until the loss stagnated.
    pub settle: usize,
}

/// What a finished segment of training was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Segment {
    Warmup,
    Kept,
    GivenUp(usize),
    Settle,
}

impl SearchSteps {
    /// The training steps accounted for.
    pub fn total(&self) -> usize {
        self.warmup + self.kept + self.given_up + self.settle
    }

    pub(super) fn add(&mut self, segment: Segment, steps: usize) {
        match segment {
            Segment::Warmup => self.warmup += steps,
            Segment::Kept => self.kept += steps,
            // A rank set and given up at the same step (the budget ran out) never trained.
            Segment::GivenUp(_) if steps == 0 => {}
            Segment::GivenUp(k) => {
                self.given_up += steps;
                self.given_up_ranks.push(k);
            }
            Segment::Settle => self.settle += steps,
        }
    }
}

impl fmt::Display for SearchSteps {
    /// `warm-up 368 + kept ranks 2013 + given up 2422 (k = 1) + settling 458 = 5261`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warm-up {} + kept ranks {}", self.warmup, self.kept)?;
        if !self.given_up_ranks.is_empty() {
            let ks: Vec<String> = self.given_up_ranks.iter().map(|k| k.to_string()).collect();
            write!(f, " + given up {} (k = {})", self.given_up, ks.join(", "))?;
        }
        write!(f, " + settling {} = {}", self.settle, self.total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_add_up_and_print_in_the_order_they_happen() {
        let mut s = SearchSteps::default();
        s.add(Segment::Warmup, 368);
        s.add(Segment::Kept, 2013);
        s.add(Segment::GivenUp(1), 2422);
        s.add(Segment::Settle, 458);
        assert_eq!(s.total(), 5261);
        assert_eq!(
            s.to_string(),
            "warm-up 368 + kept ranks 2013 + given up 2422 (k = 1) + settling 458 = 5261"
        );
        let mut t = SearchSteps::default();
        t.add(Segment::Warmup, 10);
        t.add(Segment::GivenUp(16), 5);
        t.add(Segment::Kept, 7);
        t.add(Segment::GivenUp(19), 6);
        t.add(Segment::GivenUp(18), 0);
        assert_eq!(t.given_up_ranks, vec![16, 19]);
        assert_eq!(
            t.to_string(),
            "warm-up 10 + kept ranks 7 + given up 11 (k = 16, 19) + settling 0 = 28"
        );
        assert_eq!(
            SearchSteps::default().to_string(),
            "warm-up 0 + kept ranks 0 + settling 0 = 0"
        );
    }
}
