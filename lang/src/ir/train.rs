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
}
