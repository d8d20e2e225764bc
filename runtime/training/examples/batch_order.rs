//! Prints the sample indices of every batch a run draws, as JSON: training batches
//! from the run's seed, fine-tuning batches from seed + 1 (as the loader stage), so
//! another framework can replay a run's exact batch order (bench/torch_rrae.py
//! `--replay`).
//!
//! `cargo run --release -p rrae-train --example batch_order -- SEED N BATCH STEPS FINE_TUNE_STEPS`

use rrae_train::control::Phase;
use rrae_train::data::Batches;
use rrae_train::schedule::loader::phase_seed;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>())
        .collect::<Result<_, _>>()?;
    let [seed, n, batch, steps, fine] = args[..] else {
        return Err("usage: batch_order SEED N BATCH STEPS FINE_TUNE_STEPS".into());
    };
    let draw = |phase: Phase, count: u64| -> Vec<Vec<usize>> {
        let mut b = Batches::new(n as usize, batch as usize, phase_seed(seed, phase));
        (0..count).map(|_| b.next_batch()).collect()
    };
    let out = serde_json::json!({
        "train": draw(Phase::Train, steps),
        "fine_tune": draw(Phase::FineTune, fine),
    });
    println!("{out}");
    Ok(())
}
