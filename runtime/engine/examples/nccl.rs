//! The NCCL collective checked on this machine's GPUs, without MPI: one rank per GPU,
//! as threads of this process (the thread collective carries NCCL's id), each joining
//! the communicator on its own device and running the same check as the MPI ranks
//! (gathers of uneven parts, rank-order sums, broadcast). bench/gpu_check.sh runs it;
//! `-- N` uses the first N GPUs. Prints `rank R of N (cuda:R): ok` per rank and exits
//! 0, or what failed and exits 1.

use rrae_engine::collective::{check, nccl_library, Collective, Nccl, Threads};
use rrae_engine::device::cuda::probe::device_count;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    if let Err(e) = nccl_library() {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    let gpus = match device_count() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(gpus)
        .min(gpus);
    let group = Threads::group(n);
    let results: Vec<Result<String, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = group
            .iter()
            .map(|t| {
                s.spawn(move || {
                    let rank = t.rank();
                    let nccl = Nccl::join(Arc::new(t.clone()), rank).map_err(|e| e.to_string())?;
                    check(&nccl)?;
                    Ok(format!("rank {rank} of {n} (cuda:{rank}): ok"))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a rank panicked".into())))
            .collect()
    });
    let mut ok = true;
    for r in results {
        match r {
            Ok(line) => println!("{line}"),
            Err(e) => {
                ok = false;
                eprintln!("nccl: {e}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
