//! Prints the sample indices of every batch a run draws, as JSON: training batches
//! from the run's seed, fine-tuning batches from seed + 1 (as the loader stage), so
//! another framework can replay a run's exact batch order (bench/torch_rrae.py
//! `--replay`).
//!
//! `cargo run --release -p rrae-runtime --example batch_order -- SEED N BATCH STEPS FINE_TUNE_STEPS`

use rrae_runtime::data::Batches;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>())
        .collect::<Result<_, _>>()?;
    let [seed, n, batch, steps, fine] = args[..] else {
        return Err("usage: batch_order SEED N BATCH STEPS FINE_TUNE_STEPS".into());
    };
    let draw = |seed: u64, count: u64| -> Vec<Vec<usize>> {
        let mut b = Batches::new(n as usize, batch as usize, seed);
        (0..count).map(|_| b.next_batch()).collect()
    };
    let out = serde_json::json!({
        "train": draw(seed, steps),
        "fine_tune": draw(seed.wrapping_add(1), fine),
    });
    println!("{out}");
    Ok(())
}
