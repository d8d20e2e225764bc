//! The standard normal draws of a training step: the ε a variational latent samples
//! with (`z = μ + ε·σ`).
//!
//! They are a function of the run's seed and the step alone, drawn on the host: a
//! resumed run draws what an uninterrupted one would, every rank of a data-parallel
//! step (which runs the latent on the gathered global batch) draws the same, and the
//! CPU and the GPU see the same ε. A tape without noise (an inference tape: validation,
//! evaluation, the artifact) takes the mean, as the authors' library does with
//! `epsilon = None`.

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// A step's stream of standard normals.
pub struct Noise {
    rng: StdRng,
}

impl Noise {
    /// The stream of training step `step` of a run seeded `seed`. The step is mixed
    /// in with SplitMix64's constant so that neighbouring steps share no prefix.
    pub fn new(seed: u64, step: u64) -> Noise {
        let mixed = seed ^ step.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Noise {
            rng: StdRng::seed_from_u64(mixed),
        }
    }

    /// The next `n` draws.
    pub fn normals(&mut self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| StandardNormal.sample(&mut self.rng))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Noise;

    #[test]
    fn a_step_draws_the_same_normals_every_time_and_steps_differ() {
        let a = Noise::new(7, 3).normals(1000);
        assert_eq!(a, Noise::new(7, 3).normals(1000));
        assert_ne!(a, Noise::new(7, 4).normals(1000));
        assert_ne!(a, Noise::new(8, 3).normals(1000));
        let mean = a.iter().sum::<f64>() / 1000.0;
        let var = a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 999.0;
        assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.15, "{mean} {var}");
    }
}
