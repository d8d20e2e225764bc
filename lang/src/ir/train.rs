//! The checked `train { … }` and `eval { … }` settings.

#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Constant,
    Step { every: usize, gamma: f64 },
    Cosine { min_lr: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Optimizer {
    Adam {
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
    /// AdaBelief: Adam with the second moment of `g − m` instead of `g`.
    AdaBelief {
        beta1: f64,
        beta2: f64,
        eps: f64,
        eps_root: f64,
    },
    Sgd {
        momentum: f64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    RelativeL2,
    Mse,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TrainIr {
    pub steps: usize,
    pub fine_tune_steps: usize,
    pub batch: usize,
    pub lr: f64,
    pub fine_tune_lr: f64,
    pub schedule: Schedule,
    pub optimizer: Optimizer,
    pub loss: Loss,
    pub seed: u64,
    pub checkpoint_every: Option<usize>,
    /// Steps between validation losses (0: none).
    pub validate_every: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EvalIr {
    pub interpolation_pairs: usize,
    pub interpolation_points: usize,
    pub random_samples: usize,
    pub bump_fit: bool,
    /// Random samples (the report's, `rrae sample`'s, the artifact's) come from the prior
    /// N(0, I) rather than from N(mean, cov) of the training coefficients. On by default
    /// for a latent with a prior (`vae`, `vrrae`); `sample_prior = false` gives such a
    /// model the fitted Gaussian every other latent samples, because a small β leaves
    /// the coefficients far from N(0, I) (a VRRAE's first coefficient carries the data's
    /// mean: docs/results.md).
    pub sample_prior: bool,
}

impl EvalIr {
    /// Where random samples are drawn, as figure titles and docs say it.
    pub fn sampled_from(&self) -> &'static str {
        if self.sample_prior {
            "the prior N(0, I)"
        } else {
            "N(mean, cov) of the training coefficients"
        }
    }
}
