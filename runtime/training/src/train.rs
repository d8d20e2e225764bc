//! The trainer: one training or fine-tuning step at a time, and the controller's
//! decisions applied between steps (§4.2 of the paper: per-batch truncated SVD during
//! training; the common basis U_f from the concatenated per-batch bases; the encoder
//! frozen and the decoder fine-tuned on latents projected by U_f U_fᵀ).
//!
//! The loop that feeds it batches and carries its events lives in the `schedule` module,
//! which calls into this one (never the other way).

use crate::control::{Action, Algorithm, Controller, Decision, Options};
use crate::data::{gather, Dataset};
use dfdx::prelude::*;
use nalgebra::DMatrix;
use rrae_engine::adam::Optimizer;
use rrae_engine::error::{Result, RuntimeError};
use rrae_engine::linalg::{from_rows, leading, svd};
use rrae_engine::model::{Latent, Model, Profile};
use rrae_engine::ops::learned_basis::learned_projection;
use rrae_engine::ops::loss::loss;
use rrae_engine::ops::penalty::{contractive, sparsity, weak};
use rrae_engine::ops::project::{project, projector};
use rrae_engine::ops::svd_truncate::{project_rank_k, svd_truncate};
use rrae_engine::params::Bound;
use rrae_engine::tensor::{mat, Mat};
use rrae_lang::ir::{LatentOp, Rank, Schedule, Search, TrainIr};
use std::time::{Duration, Instant};

pub use crate::control::Phase;

/// One logged step.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepLog {
    pub phase: Phase,
    pub step: usize,
    /// The rank in force (the latent width for models without one).
    pub k: usize,
    pub loss: f64,
    pub ms: f64,
}

/// Parameters and optimiser state, kept for a rank by `Action::Save`.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub k: usize,
    pub params: Vec<Vec<f32>>,
    pub opt: Optimizer,
}

/// Learning rate at `step` of `total` under `schedule`.
pub fn learning_rate(schedule: &Schedule, base: f64, step: usize, total: usize) -> f64 {
    match schedule {
        Schedule::Constant => base,
        Schedule::Step { every, gamma } => base * gamma.powi((step / (*every).max(1)) as i32),
        Schedule::Cosine { min_lr } => {
            let t = step as f64 / total.max(1) as f64;
            min_lr + 0.5 * (base - min_lr) * (1.0 + (std::f64::consts::PI * t).cos())
        }
    }
}

/// The controller a model's IR asks for: an adaptive search, or the fixed schedule.
pub fn plan(model: &Model, cfg: &TrainIr) -> Controller {
    let l = model.latent_dim();
    let has_basis = model.latent.has_common_basis();
    let mut opts = Options {
        window: 100,
        tolerance: 0.01,
        patience: 500,
        max_steps: cfg.steps,
        fine_tune_steps: if has_basis { cfg.fine_tune_steps } else { 0 },
        anneal: 0,
        horizon: 0,
    };
    match &model.ir.latent.op {
        LatentOp::SvdTruncate(Rank::Adaptive {
            search,
            patience,
            tolerance,
            window,
            max_steps,
        }) => {
            opts.window = *window;
            opts.tolerance = *tolerance;
            opts.patience = *patience;
            opts.max_steps = max_steps.unwrap_or(cfg.steps);
            if let Search::Trend { horizon } = search {
                opts.horizon = *horizon;
            }
            Controller::adaptive(Algorithm::from(*search), l.min(cfg.batch), opts)
        }
        LatentOp::SvdTruncate(Rank::Annealed { k, steps }) => {
            opts.anneal = *steps;
            Controller::annealed(*k, l.min(cfg.batch), opts)
        }
        _ => Controller::fixed(model.latent.rank().unwrap_or(l), opts),
    }
}

pub struct Trainer<'a> {
    pub model: Model,
    pub data: &'a Dataset,
    pub cfg: TrainIr,
    pub log: Vec<StepLog>,
    /// Every decision the controller took, in order.
    pub decisions: Vec<Decision>,
    /// U_f (L × k) once computed; `None` for operators without a basis.
    pub basis: Option<DMatrix<f64>>,
    pub profile: Option<Profile>,
    /// `None` until a run starts (or a checkpoint restores one).
    pub controller: Option<Controller>,
    /// The `.rrae` text, for the artifacts written at checkpoints.
    pub source: String,
    /// Singular values of the stacked per-batch bases behind U_f.
    pub common_singular_values: Vec<f64>,
    /// Time the training thread spent waiting for the loader.
    pub data_wait: Duration,
    pub(crate) opt: Optimizer,
    pub(crate) saved: Option<Snapshot>,
    fixed_p: Option<Mat<f32>>,
    /// Fine-tuning inputs: the training latents projected by U_f U_fᵀ (n × L).
    z_all: Option<Vec<f32>>,
    /// The parameters as training left them, kept from the start of fine-tuning so that
    /// a fine-tuning that diverges loses nothing of training (not in checkpoints: a run
    /// resumed mid-fine-tuning has none).
    pub trained: Option<Vec<Vec<f32>>>,
    /// [`Dataset::fingerprint`] of `data`, computed at the first checkpoint (a run
    /// without one, `rrae bench` or `rrae eval`, never hashes its data).
    data_fingerprint: std::sync::OnceLock<String>,
    dev: Cpu,
}

impl<'a> Trainer<'a> {
    pub fn new(model: Model, data: &'a Dataset, debug: bool) -> Self {
        let cfg = model.ir.train.clone();
        rrae_engine::ops::tape::timing::enable(debug);
        let dev = Cpu::default();
        let (basis, fixed_p) = match &model.latent {
            Latent::Project { basis } => (Some(basis.clone()), Some(projector(&dev, basis))),
            _ => (None, None),
        };
        let opt = Optimizer::new(cfg.optimizer.clone(), &model.params);
        Trainer {
            model,
            data,
            cfg,
            log: vec![],
            decisions: vec![],
            basis,
            profile: debug.then(Profile::default),
            controller: None,
            common_singular_values: vec![],
            source: String::new(),
            data_wait: Duration::ZERO,
            opt,
            saved: None,
            fixed_p,
            z_all: None,
            trained: None,
            data_fingerprint: std::sync::OnceLock::new(),
            dev,
        }
    }

    /// [`Dataset::fingerprint`] of the data this trainer trains on.
    pub fn data_fingerprint(&self) -> &str {
        self.data_fingerprint
            .get_or_init(|| self.data.fingerprint())
    }

    /// The controller of this run: a fresh plan unless one is in progress.
    pub(crate) fn start(&mut self) -> Vec<Decision> {
        if self.controller.as_ref().is_some_and(|c| !c.done()) {
            return vec![];
        }
        let mut c = plan(&self.model, &self.cfg);
        let ds = c.begin();
        self.opt = Optimizer::new(self.cfg.optimizer.clone(), &self.model.params);
        self.controller = Some(c);
        ds
    }

    pub fn phase(&self) -> Phase {
        self.controller.as_ref().map_or(Phase::Train, |c| c.phase())
    }

    /// The rank in force (the latent width for models without one).
    pub fn k(&self) -> usize {
        self.model
            .latent
            .rank()
            .unwrap_or_else(|| self.model.latent_dim())
    }

    fn check(&self, phase: Phase, step: usize, loss: f64, grads: &[Vec<f32>]) -> Result<()> {
        let what = if !loss.is_finite() {
            Some("the loss".to_string())
        } else {
            grads
                .iter()
                .position(|g| g.iter().any(|v| !v.is_finite()))
                .map(|i| format!("the gradient of {}", self.model.params.params[i].name))
        };
        match what {
            Some(what) => Err(RuntimeError::NonFinite {
                phase: phase.name(),
                step,
                what,
                kept: None,
            }),
            None => Ok(()),
        }
    }

    /// One step on the batch of samples `idx` whose rows are `x`; returns the loss.
    pub fn step(&mut self, idx: &[usize], x: Vec<f32>) -> Result<f64> {
        let t0 = Instant::now();
        let phase = self.phase();
        let (done_train, done_fine) = self.controller.as_ref().map_or((0, 0), |c| c.steps());
        let (step, total, base) = match phase {
            Phase::Train => (done_train, self.max_steps(), self.cfg.lr),
            Phase::FineTune => (done_fine, self.cfg.fine_tune_steps, self.cfg.fine_tune_lr),
        };
        let x = mat(&self.dev, x, idx.len(), self.data.dim);
        let bound = self.model.params.bind::<f32>(&self.dev);
        let l = match phase {
            Phase::Train => {
                let mut prof = self.profile.take();
                let y = self
                    .model
                    .encode(&bound, x.clone().leaky_traced(), prof.as_mut());
                let t1 = Instant::now();
                // The zoo's penalties read the latent through an empty-tape copy; the
                // decoder consumes the original, so both gradients reach the encoder.
                let mut penalty = None;
                let z = match (&self.model.latent, &self.fixed_p) {
                    (Latent::Svd { k }, _) => svd_truncate(y, *k).0,
                    (Latent::Project { .. }, Some(p)) => project(y, p),
                    (Latent::Sparse { rho, beta }, _) => {
                        penalty = Some(sparsity(y.with_empty_tape(), *rho, *beta));
                        y
                    }
                    (Latent::Contractive { beta, w }, _) => {
                        let w = bound[*w].mat();
                        penalty = Some(contractive(y.with_empty_tape(), w, *beta));
                        y
                    }
                    (Latent::Weak { k, beta }, _) => {
                        penalty = Some(weak(y.with_empty_tape(), *k, *beta));
                        y
                    }
                    (Latent::Learned { b, .. }, _) => learned_projection(y, bound[*b].mat()),
                    _ => y,
                };
                if let Some(p) = prof.as_mut() {
                    p.record("latent", t1);
                }
                let pred = self.model.decode(&bound, z, prof.as_mut());
                self.profile = prof;
                let l = loss(self.cfg.loss, pred, &x);
                match penalty {
                    Some(p) => l + p,
                    None => l,
                }
            }
            Phase::FineTune => {
                let lat = self.model.latent_dim();
                let rows = match &self.z_all {
                    Some(z) => gather(z, lat, idx),
                    None => {
                        return Err(RuntimeError::Stage {
                            stage: "trainer",
                            reason: "fine-tuning started without its latents".into(),
                        })
                    }
                };
                let z = mat(&self.dev, rows, idx.len(), lat);
                let pred = self.model.decode(&bound, z.leaky_traced(), None);
                loss(self.cfg.loss, pred, &x)
            }
        };
        let value = l.array() as f64;
        let t2 = Instant::now();
        let mut grads = l.backward();
        if let Some(p) = self.profile.as_mut() {
            if phase == Phase::Train {
                p.record("backward (all layers)", t2);
            }
        }
        self.update(
            phase,
            step,
            value,
            &mut grads,
            &bound,
            learning_rate(&self.cfg.schedule, base, step, total),
        )?;
        self.log.push(StepLog {
            phase,
            step,
            k: self.k(),
            loss: value,
            ms: t0.elapsed().as_secs_f64() * 1e3,
        });
        Ok(value)
    }

    fn max_steps(&self) -> usize {
        match &self.model.ir.latent.op {
            LatentOp::SvdTruncate(Rank::Adaptive {
                max_steps: Some(m), ..
            }) => *m,
            _ => self.cfg.steps,
        }
    }

    /// The end of every step, after the backward: collect the gradients of the
    /// unfrozen parameters, refuse NaN, update.
    fn update(
        &mut self,
        phase: Phase,
        step: usize,
        value: f64,
        grads: &mut dfdx::tensor::Gradients<f32, Cpu>,
        bound: &[Bound<f32>],
        lr: f64,
    ) -> Result<()> {
        // Frozen parameters get no update: an empty gradient tells the optimiser so.
        let mut g = rrae_engine::params::gradients(grads, bound);
        for (g, p) in g.iter_mut().zip(&self.model.params.params) {
            if p.frozen {
                g.clear();
            }
        }
        self.check(phase, step, value, &g)?;
        self.opt.step(&mut self.model.params, &g, lr);
        Ok(())
    }

    /// Carries out one controller decision. Ending the training phase of an RRAE
    /// computes the common basis, returned as (rank, singular values).
    pub fn apply(&mut self, d: &Decision) -> Result<Option<(usize, Vec<f64>)>> {
        self.decisions.push(d.clone());
        match d.action {
            Action::SetK { k } => self.set_rank(k),
            Action::Save { k } => {
                self.saved = Some(Snapshot {
                    k,
                    params: self.model.params.values(),
                    opt: self.opt.clone(),
                });
            }
            Action::Restore { k } => {
                let s =
                    self.saved
                        .take()
                        .filter(|s| s.k == k)
                        .ok_or_else(|| RuntimeError::Stage {
                            stage: "controller",
                            reason: format!(
                                "asked to restore k = {k}, but no checkpoint of that rank is kept"
                            ),
                        })?;
                self.model.params.set_values(&s.params);
                self.opt = s.opt.clone();
                self.saved = Some(s);
                self.set_rank(k);
            }
            Action::FineTune { k } => {
                self.set_rank(k);
                let sv = self.end_training();
                self.begin_fine_tune();
                return Ok(sv);
            }
            Action::Stop => {
                if d.phase == Phase::Train {
                    return Ok(self.end_training());
                }
                self.model.freeze_encoder(false);
            }
        }
        Ok(None)
    }

    pub(crate) fn set_rank(&mut self, k: usize) {
        if let Latent::Svd { k: cur } = &mut self.model.latent {
            *cur = k;
        }
    }

    /// After the training phase of an RRAE: the training latents (the encoder is
    /// frozen from here on, so they serve both stages) and the common basis.
    pub(crate) fn end_training(&mut self) -> Option<(usize, Vec<f64>)> {
        let k = match self.model.latent {
            Latent::Svd { k } | Latent::Weak { k, .. } => k,
            Latent::Learned { b, .. } => {
                // Inference projects on the trained basis, columns normalised.
                let p = &self.model.params.params[b];
                let m = from_rows(
                    &p.data.iter().map(|&v| v as f64).collect::<Vec<_>>(),
                    p.shape[0],
                    p.shape[1],
                );
                self.basis = Some(rrae_engine::ops::learned_basis::normalised(&m));
                return None;
            }
            _ => return None,
        };
        let y = self.encode_all(&self.data.train);
        let sv = self.common_basis(&y, k);
        self.z_all = Some(y);
        Some(sv)
    }

    /// Freezes the encoder, projects the training latents on U_f and starts a fresh
    /// optimiser for the decoder.
    pub(crate) fn begin_fine_tune(&mut self) {
        let (Some(basis), Some(y)) = (&self.basis, self.z_all.take()) else {
            return;
        };
        let (n, l) = (self.data.n_train(), self.model.latent_dim());
        let p = projector::<f32>(&self.dev, basis);
        self.z_all = Some(project(mat(&self.dev, y, n, l), &p).as_vec());
        self.model.freeze_encoder(true);
        self.opt = Optimizer::new(self.cfg.optimizer.clone(), &self.model.params);
        self.trained = Some(self.model.params.values());
    }

    /// Encoder outputs (n × L, row per sample) of `rows`, in chunks.
    pub fn encode_all(&self, rows: &[f32]) -> Vec<f32> {
        let (dim, l) = (self.data.dim, self.model.latent_dim());
        let bound = self.model.params.bind::<f32>(&self.dev);
        let mut out = Vec::with_capacity(rows.len() / dim * l);
        for chunk in rows.chunks(dim * 256) {
            let x = mat(&self.dev, chunk.to_vec(), chunk.len() / dim, dim);
            out.extend(self.model.encode(&bound, x, None).as_vec());
        }
        out
    }

    /// U_f: the per-batch truncated bases of the training set (batches of the
    /// training size, in order) side by side, SVD'd again; its leading k vectors.
    fn common_basis(&mut self, y: &[f32], k: usize) -> (usize, Vec<f64>) {
        let l = self.model.latent_dim();
        let n = y.len() / l;
        let mut cols: Vec<DMatrix<f64>> = vec![];
        for start in (0..n).step_by(self.cfg.batch.max(1)) {
            let end = (start + self.cfg.batch).min(n);
            let chunk: Vec<f64> = y[start * l..end * l].iter().map(|&v| v as f64).collect();
            let t = project_rank_k(&chunk, end - start, l, k);
            cols.push(t.basis());
        }
        let width: usize = cols.iter().map(|c| c.ncols()).sum();
        let mut all = DMatrix::<f64>::zeros(l, width);
        let mut at = 0;
        for c in &cols {
            all.columns_mut(at, c.ncols()).copy_from(c);
            at += c.ncols();
        }
        let d = svd(&all);
        let rank = k.min(d.s.len());
        self.basis = Some(leading(&d.u, rank));
        self.common_singular_values = d.s.to_vec();
        (rank, d.s.to_vec())
    }

    /// The inference-time latent map as a projector, if the model has one.
    pub fn inference_projector(&self) -> Option<Mat<f32>> {
        self.basis.as_ref().map(|b| projector::<f32>(&self.dev, b))
    }

    pub fn device(&self) -> &Cpu {
        &self.dev
    }
}

/// `rows × L` latents → coefficients in the basis (`rows × k`).
pub fn coefficients(latents: &[f32], l: usize, basis: &DMatrix<f64>) -> DMatrix<f64> {
    let y = from_rows(
        &latents.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        latents.len() / l,
        l,
    );
    y * basis
}
