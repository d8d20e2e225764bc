//! The MPI collective checked across real processes: `mpirun -np N` this program (built
//! with `--features mpi`); each rank checks the gathers, the rank-order sums and the
//! broadcast against what it can compute alone, prints `rank R of N: ok` and exits 0,
//! or prints what differed and exits 1. `tests/mpi.rs` runs it with 2 and 3 ranks.

use rrae_engine::collective::{check, Collective, Mpi};

fn main() -> std::process::ExitCode {
    let c = match Mpi::init() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(1);
        }
    };
    match check(&c) {
        Ok(()) => {
            println!("rank {} of {}: ok", c.rank(), c.size());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rank {} of {}: {e}", c.rank(), c.size());
            std::process::ExitCode::from(1)
        }
    }
}
