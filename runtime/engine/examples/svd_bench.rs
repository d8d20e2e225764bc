//! The truncated SVD op alone, forward (the SVD of the L × B latent matrix and the
//! rank-k projection) and its stable backward, timed at the sizes docs/scaling.md
//! reports, from 64 × 64 up to the paper's largest, L × B = 2500 × 4096.
//!
//!   cargo run --release -p rrae-engine --example svd_bench [-- L×B …]
//!
//! Prints one line per size: L, B, k, forward ms, backward ms (median of the repeats,
//! fewer repeats for the large sizes). Random Gaussian latents of rank min(L, B).

use rrae_engine::truncation::project_rank_k;
use std::time::Instant;

fn main() {
    let sizes: Vec<(usize, usize)> = {
        let given: Vec<(usize, usize)> = std::env::args()
            .skip(1)
            .filter_map(|a| {
                let (l, b) = a.split_once('x')?;
                Some((l.parse().ok()?, b.parse().ok()?))
            })
            .collect();
        if given.is_empty() {
            vec![
                (64, 64),
                (128, 256),
                (256, 512),
                (512, 1024),
                (1024, 1024),
                (1024, 2048),
                (2500, 4096),
            ]
        } else {
            given
        }
    };
    println!("L\tB\tk\tforward_ms\tbackward_ms\trepeats");
    for (l, b) in sizes {
        let k = (l.min(b) / 4).max(1);
        // A deterministic pseudo-random matrix (xorshift), no dependency needed.
        let mut s = 0x9e3779b97f4a7c15u64;
        let x: Vec<f64> = (0..l * b)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect();
        let g: Vec<f64> = x.iter().rev().copied().collect();
        let repeats = if l * b > 1 << 21 {
            1
        } else if l * b > 1 << 18 {
            3
        } else {
            9
        };
        let (mut fwd, mut bwd) = (vec![], vec![]);
        for _ in 0..repeats {
            let t0 = Instant::now();
            let t = project_rank_k(&x, b, l, k);
            fwd.push(t0.elapsed().as_secs_f64() * 1e3);
            let t1 = Instant::now();
            let d = t.backward(&g);
            bwd.push(t1.elapsed().as_secs_f64() * 1e3);
            assert_eq!(d.len(), l * b);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "{l}\t{b}\t{k}\t{:.1}\t{:.1}\t{repeats}",
            median(&mut fwd),
            median(&mut bwd)
        );
    }
}
