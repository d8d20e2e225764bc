//! What every collective must do, checked on the running ranks: the gathers of uneven
//! parts, the rank-order sums (with values whose sum depends on the order) and the
//! broadcast, each against what a rank can compute alone. The MPI example
//! (`examples/collectives.rs`, run by tests/mpi.rs), the NCCL one (`examples/nccl.rs`,
//! run by bench/gpu_check.sh) and the thread tests all call it.

use super::{shard_counts, Collective};

/// `Ok(())` when `c` gave every rank what it should; what differed otherwise.
pub fn check(c: &dyn Collective) -> Result<(), String> {
    let (rank, n) = (c.rank(), c.size());
    // Uneven shards of a batch of 2n + 1 rows, 3 values each.
    let counts: Vec<usize> = shard_counts(2 * n + 1, n).iter().map(|r| 3 * r).collect();
    let mine: Vec<f32> = (0..counts[rank])
        .map(|i| (1000 * rank + i) as f32)
        .collect();
    let got = c
        .all_gather_f32(&mine, &counts)
        .map_err(|e| e.to_string())?;
    let want: Vec<f32> = (0..n)
        .flat_map(|r| (0..counts[r]).map(move |i| (1000 * r + i) as f32))
        .collect();
    if got != want {
        return Err(format!("all_gather_f32 gave {got:?}, not {want:?}"));
    }
    // Values whose sum depends on the order: rank order gives exactly this.
    let part = |r: usize| -> Vec<f64> {
        vec![
            [1.0, 1e16, -1e16][r % 3] * (1 + r / 3) as f64,
            r as f64 + 0.1,
        ]
    };
    let mut v = part(rank);
    c.sum_f64(&mut v).map_err(|e| e.to_string())?;
    let mut want = part(0);
    for r in 1..n {
        for (w, x) in want.iter_mut().zip(part(r)) {
            *w += x;
        }
    }
    if v.iter()
        .map(|x| x.to_bits())
        .ne(want.iter().map(|x| x.to_bits()))
    {
        return Err(format!("sum_f64 gave {v:?}, not {want:?}"));
    }
    let mut b = vec![rank as u8; rank + 1];
    c.broadcast(&mut b, n - 1).map_err(|e| e.to_string())?;
    if b != vec![(n - 1) as u8; n] {
        return Err(format!("broadcast gave {b:?}"));
    }
    Ok(())
}
