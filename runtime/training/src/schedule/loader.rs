//! The loader stage: seeded shuffling and batch assembly into contiguous row buffers,
//! ahead of the trainer through a bounded channel.
//!
//! The batch order is a function of the seed and of how many batches were drawn, so a
//! resumed run skips the batches already trained on and sees the same stream. The
//! trainer measures how long it waits on this channel (`data_wait` in metrics.json);
//! with `DEPTH` batches prefetched that wait is the evidence that it never starves.

use crate::control::Phase;
use crate::data::{gather, replay::Order, Batches};
use crossbeam_channel::{bounded, Receiver};
use std::thread::Scope;

/// Batches assembled ahead of the trainer.
pub const DEPTH: usize = 4;

/// One batch: the sample indices and their rows, contiguous (`idx.len() × dim`).
pub struct Batch {
    pub idx: Vec<usize>,
    pub x: Vec<f32>,
}

/// What the loader draws from: a row-major `n × dim` matrix.
#[derive(Clone)]
pub struct Source<'d> {
    pub rows: &'d [f32],
    pub dim: usize,
    pub batch: usize,
    pub seed: u64,
    /// A replayed batch order (`RRAE_BATCH_ORDER`) instead of the seeded one.
    pub replay: Option<Order>,
}

/// The seed of a phase's batch stream: the run's seed for training, seed + 1 for
/// fine-tuning (the two phases draw independent orders). Replays of a run's batches
/// (the `batch_order` example) use it too.
pub fn phase_seed(seed: u64, phase: Phase) -> u64 {
    match phase {
        Phase::Train => seed,
        Phase::FineTune => seed.wrapping_add(1),
    }
}

/// Starts a loader that skips `skip` batches, then sends batches until the receiver
/// is dropped.
pub fn spawn<'s, 'd: 's>(
    scope: &'s Scope<'s, '_>,
    src: Source<'d>,
    skip: usize,
) -> Receiver<Batch> {
    let (tx, rx) = bounded(DEPTH);
    scope.spawn(move || {
        let n = src.rows.len() / src.dim.max(1);
        let mut next: Box<dyn FnMut() -> Vec<usize>> = match src.replay {
            // A replayed order is sent as given, from the start again if the run is longer.
            Some(order) => {
                let mut drawn = 0;
                Box::new(move || {
                    let b = order.get(drawn % order.len().max(1)).cloned();
                    drawn += 1;
                    b.unwrap_or_default()
                })
            }
            None => {
                let mut order = Batches::new(n, src.batch, src.seed);
                Box::new(move || order.next_batch())
            }
        };
        for _ in 0..skip {
            next();
        }
        loop {
            let idx = next();
            let x = gather(src.rows, src.dim, &idx);
            if tx.send(Batch { idx, x }).is_err() {
                break; // the trainer moved on
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_seeded_and_resumes_after_skipping() {
        let rows: Vec<f32> = (0..20).map(|v| v as f32).collect();
        let src = Source {
            rows: &rows,
            dim: 2,
            batch: 3,
            seed: 9,
            replay: None,
        };
        std::thread::scope(|s| {
            let all = spawn(s, src.clone(), 0);
            let first: Vec<Batch> = (0..7).map(|_| all.recv().unwrap()).collect(); // ok: test
            let later = spawn(s, src.clone(), 4);
            for want in &first[4..] {
                let got = later.recv().unwrap(); // ok: test
                assert_eq!(got.idx, want.idx);
                assert_eq!(got.x, want.x);
            }
            // Rows are the gathered samples, contiguous.
            let b = &first[0];
            for (j, &i) in b.idx.iter().enumerate() {
                assert_eq!(&b.x[2 * j..2 * j + 2], &rows[2 * i..2 * i + 2]);
            }
        });
    }

    #[test]
    fn a_replayed_order_is_sent_as_given_and_skips_on_resume() {
        let rows: Vec<f32> = (0..8).map(|v| v as f32).collect();
        let order = std::sync::Arc::new(vec![vec![3, 1], vec![0, 2], vec![2, 2]]);
        let src = Source {
            rows: &rows,
            dim: 2,
            batch: 2,
            seed: 9,
            replay: Some(order),
        };
        std::thread::scope(|s| {
            let rx = spawn(s, src.clone(), 1);
            let got: Vec<Vec<usize>> = (0..3).map(|_| rx.recv().unwrap().idx).collect(); // ok: test
            assert_eq!(got, vec![vec![0, 2], vec![2, 2], vec![3, 1]]);
            let b = spawn(s, src, 0).recv().unwrap(); // ok: test
            assert_eq!(b.x, vec![6.0, 7.0, 2.0, 3.0]);
        });
    }
}
