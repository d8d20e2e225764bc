//! The training loop (§4.2 of the paper): per-batch truncated SVD during training; the
//! common basis U_f from the concatenated per-batch bases; the encoder frozen and the
//! decoder fine-tuned on latents projected by U_f U_fᵀ.

use crate::adam::Optimizer;
use crate::data::{gather, Batches, Dataset};
use crate::error::{Result, RuntimeError};
use crate::linalg::{from_rows, leading, svd};
use crate::model::{Latent, Model, Profile};
use crate::ops::loss::loss;
use crate::ops::project::{project, projector};
use crate::ops::svd_truncate::{project_rank_k, svd_truncate};
use crate::params::Bound;
use crate::tensor::mat;
use dfdx::prelude::*;
use nalgebra::DMatrix;
use rrae_lang::ir::{Schedule, TrainIr};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Train,
    FineTune,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Train => "train",
            Phase::FineTune => "fine_tune",
        }
    }
}

/// What the trainer reports as it goes (the CLI draws a progress bar from it).
pub enum Event<'a> {
    Start {
        phase: Phase,
        steps: usize,
    },
    Step {
        phase: Phase,
        step: usize,
        loss: f64,
    },
    Basis {
        rank: usize,
        singular_values: &'a [f64],
    },
}

/// One logged step.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StepLog {
    pub phase: Phase,
    pub step: usize,
    pub loss: f64,
    pub ms: f64,
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

pub struct Trainer<'a> {
    pub model: Model,
    pub data: &'a Dataset,
    pub cfg: TrainIr,
    pub log: Vec<StepLog>,
    /// U_f (L × k) once computed; `None` for operators without a basis.
    pub basis: Option<DMatrix<f64>>,
    pub profile: Option<Profile>,
    dev: Cpu,
}

impl<'a> Trainer<'a> {
    pub fn new(model: Model, data: &'a Dataset, debug: bool) -> Self {
        let cfg = model.ir.train.clone();
        crate::ops::tape::timing::enable(debug);
        let basis = match &model.latent {
            Latent::Project { basis } => Some(basis.clone()),
            _ => None,
        };
        Trainer {
            model,
            data,
            cfg,
            log: vec![],
            basis,
            profile: debug.then(Profile::default),
            dev: Cpu::default(),
        }
    }

    /// Runs both phases. On error the log and parameters so far stay readable.
    pub fn run(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        self.train(on)?;
        if let Latent::Svd { k } = self.model.latent {
            // The encoder is frozen from here on: its outputs serve both stages.
            let y = self.encode_all(&self.data.train);
            self.common_basis(&y, k, on);
            if self.cfg.fine_tune_steps > 0 {
                self.fine_tune(y, on)?;
            }
        }
        Ok(())
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
            }),
            None => Ok(()),
        }
    }

    /// The end of every step, after the backward: collect the gradients of the
    /// unfrozen parameters, refuse NaN, update, log and report.
    fn apply(
        &mut self,
        (phase, step, steps, t0): (Phase, usize, usize, Instant),
        value: f64,
        grads: &mut dfdx::tensor::Gradients<f32, Cpu>,
        bound: &[Bound<f32>],
        opt: &mut Optimizer,
        on: &mut dyn FnMut(Event),
    ) -> Result<()> {
        // Frozen parameters get no update: an empty gradient tells the optimiser so.
        let mut g = crate::params::gradients(grads, bound);
        for (g, p) in g.iter_mut().zip(&self.model.params.params) {
            if p.frozen {
                g.clear();
            }
        }
        self.check(phase, step, value, &g)?;
        let base = match phase {
            Phase::Train => self.cfg.lr,
            Phase::FineTune => self.cfg.fine_tune_lr,
        };
        opt.step(
            &mut self.model.params,
            &g,
            learning_rate(&self.cfg.schedule, base, step, steps),
        );
        self.log.push(StepLog {
            phase,
            step,
            loss: value,
            ms: t0.elapsed().as_secs_f64() * 1e3,
        });
        on(Event::Step {
            phase,
            step,
            loss: value,
        });
        Ok(())
    }

    fn train(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        let (steps, n) = (self.cfg.steps, self.data.n_train());
        let mut opt = Optimizer::new(self.cfg.optimizer.clone(), &self.model.params);
        let mut batches = Batches::new(n, self.cfg.batch, self.cfg.seed);
        let fixed_p = match &self.model.latent {
            Latent::Project { basis } => Some(projector::<f32>(&self.dev, basis)),
            _ => None,
        };
        on(Event::Start {
            phase: Phase::Train,
            steps,
        });
        for step in 0..steps {
            let t0 = Instant::now();
            let idx = batches.next_batch();
            let x = self.rows(&idx);
            let bound = self.model.params.bind::<f32>(&self.dev);
            let mut prof = self.profile.take();
            let y = self
                .model
                .encode(&bound, x.clone().leaky_traced(), prof.as_mut());
            let t1 = Instant::now();
            let z = match (&self.model.latent, &fixed_p) {
                (Latent::Svd { k }, _) => svd_truncate(y, *k).0,
                (Latent::Project { .. }, Some(p)) => project(y, p),
                _ => y,
            };
            if let Some(p) = prof.as_mut() {
                p.record("latent", t1);
            }
            let pred = self.model.decode(&bound, z, prof.as_mut());
            let l = loss(self.cfg.loss, pred, &x);
            let value = l.array() as f64;
            let t2 = Instant::now();
            let mut grads = l.backward();
            if let Some(p) = prof.as_mut() {
                p.record("backward (all layers)", t2);
            }
            self.profile = prof;
            let at = (Phase::Train, step, steps, t0);
            self.apply(at, value, &mut grads, &bound, &mut opt, on)?;
        }
        Ok(())
    }

    /// Training samples `idx` as one batch.
    fn rows(&self, idx: &[usize]) -> crate::tensor::Mat<f32> {
        let dim = self.data.dim;
        mat(
            &self.dev,
            gather(&self.data.train, dim, idx),
            idx.len(),
            dim,
        )
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
    fn common_basis(&mut self, y: &[f32], k: usize, on: &mut dyn FnMut(Event)) {
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
        on(Event::Basis {
            rank,
            singular_values: &d.s,
        });
        self.basis = Some(leading(&d.u, rank));
    }

    /// Decoder fine-tuning with the encoder frozen: the latents are computed once and
    /// projected by U_f U_fᵀ, then only the decoder trains.
    fn fine_tune(&mut self, y: Vec<f32>, on: &mut dyn FnMut(Event)) -> Result<()> {
        let Some(basis) = &self.basis else {
            return Ok(());
        };
        let (steps, n, l) = (
            self.cfg.fine_tune_steps,
            self.data.n_train(),
            self.model.latent_dim(),
        );
        let p = projector::<f32>(&self.dev, basis);
        let z_all = project(mat(&self.dev, y, n, l), &p).as_vec();
        self.model.freeze_encoder(true);
        let mut opt = Optimizer::new(self.cfg.optimizer.clone(), &self.model.params);
        let mut batches = Batches::new(n, self.cfg.batch, self.cfg.seed.wrapping_add(1));
        on(Event::Start {
            phase: Phase::FineTune,
            steps,
        });
        for step in 0..steps {
            let t0 = Instant::now();
            let idx = batches.next_batch();
            let x = self.rows(&idx);
            let z = mat(&self.dev, gather(&z_all, l, &idx), idx.len(), l);
            let bound = self.model.params.bind::<f32>(&self.dev);
            let pred = self.model.decode(&bound, z.leaky_traced(), None);
            let lo = loss(self.cfg.loss, pred, &x);
            let value = lo.array() as f64;
            let mut grads = lo.backward();
            let at = (Phase::FineTune, step, steps, t0);
            self.apply(at, value, &mut grads, &bound, &mut opt, on)?;
        }
        self.model.freeze_encoder(false);
        Ok(())
    }

    /// The inference-time latent map as a projector, if the model has one.
    pub fn inference_projector(&self) -> Option<crate::tensor::Mat<f32>> {
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
