//! The trainer: one training or fine-tuning step at a time, and the controller's
//! decisions applied between steps (§4.2 of the paper: per-batch truncated SVD during
//! training; the common basis U_f from the concatenated per-batch bases; the encoder
//! frozen and the decoder fine-tuned on latents projected by U_f U_fᵀ).
//!
//! The loop that feeds it batches and carries its events lives in the `schedule` module,
//! which calls into this one (never the other way).

use crate::control::{Action, Controller, Decision, Options};
use crate::data::{gather, Dataset};
use crate::error::{Result, TrainError};
use nalgebra::DMatrix;
use rrae_engine::backend::Backend;
use rrae_engine::collective::{shard_counts, shard_start, Ranks};
use rrae_engine::device::Device;
use rrae_engine::device::Opened;
use rrae_engine::latent::project::projector;
use rrae_engine::latent::svd_truncate::project_rank_k;
use rrae_engine::latent::BasisSource;
use rrae_engine::latent::Sharding;
use rrae_engine::linalg::{from_rows, leading, svd};
use rrae_engine::model::{healthy, infer, project_rows, Model, Profile};
use rrae_engine::on_placed;
use rrae_engine::ops::elementwise::add;
use rrae_engine::ops::loss::loss;
use rrae_engine::ops::shard::{gather_rows, shard_rows, sharded_loss, Shards};
use rrae_engine::optim::{Optimizer, OptimizerKernel};
use rrae_engine::resident::{Placed, Resident};
use rrae_engine::tape::Tape;
use rrae_engine::EngineError;
use rrae_lang::ir::{LatentOp, Rank, Schedule, TrainIr};
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
    /// The validation loss after this step, where one was measured
    /// ([`crate::validate`]); absent in checkpoints written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<f64>,
    /// The learning rate this step applied (0 in checkpoints written before it was
    /// logged).
    #[serde(default)]
    pub lr: f64,
    /// The latent operator's term of `loss` (a KL, a nuclear norm, a sparsity or
    /// contractive penalty), where the model has one and the step trained it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty: Option<f64>,
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

/// The training phase's step budget for latent operator `op`: an adaptive search's
/// `max_steps`, else `steps` (the train block's).
pub fn training_steps(op: &LatentOp, steps: usize) -> usize {
    match op.rank_control() {
        Some(Rank::Adaptive { max_steps, .. }) => max_steps.unwrap_or(steps),
        Some(Rank::Fixed(_) | Rank::Annealed { .. } | Rank::Descended { .. }) | None => steps,
    }
}

/// The controller a model's IR asks for: an adaptive search, or the fixed schedule.
pub fn plan(model: &Model, cfg: &TrainIr) -> Controller {
    let l = model.latent_dim();
    let has_basis = model.latent.has_common_basis(&model.params);
    // The adaptive defaults; only the adaptive search reads them.
    use rrae_lang::latent::svd_truncate::{ADAPTIVE_PATIENCE, ADAPTIVE_TOLERANCE, ADAPTIVE_WINDOW};
    let mut opts = Options {
        window: ADAPTIVE_WINDOW,
        tolerance: ADAPTIVE_TOLERANCE,
        patience: ADAPTIVE_PATIENCE,
        max_steps: training_steps(&model.ir.latent.op, cfg.steps),
        fine_tune_steps: if has_basis { cfg.fine_tune_steps } else { 0 },
        anneal: 0,
        horizon: 0,
        target: None,
    };
    match model.ir.latent.op.rank_control() {
        Some(Rank::Adaptive {
            search,
            horizon,
            patience,
            tolerance,
            window,
            max_steps: _,
            target,
        }) => {
            opts.target = *target;
            opts.window = *window;
            opts.tolerance = *tolerance;
            opts.patience = *patience;
            opts.horizon = horizon.unwrap_or(0);
            Controller::adaptive(*search, model.ir.latent.k_max, opts)
        }
        Some(Rank::Annealed { k, steps }) => {
            opts.anneal = *steps;
            Controller::annealed(*k, model.ir.latent.k_max, opts)
        }
        Some(Rank::Descended { k }) => Controller::descending(*k, model.ir.latent.k_max, opts),
        Some(Rank::Fixed(_)) | None => Controller::fixed(model.latent.rank().unwrap_or(l), opts),
    }
}

pub struct Trainer<'a> {
    pub model: Model,
    pub data: &'a Dataset,
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
    /// Fine-tuning inputs: the training latents projected by U_f U_fᵀ (n × L).
    z_all: Option<Vec<f32>>,
    /// The parameters as training left them, kept from the start of fine-tuning so that
    /// a fine-tuning that diverges loses nothing of training (not in checkpoints: a run
    /// resumed mid-fine-tuning has none).
    pub trained: Option<Vec<Vec<f32>>>,
    /// [`Dataset::fingerprint`] of `data`, computed at the first checkpoint (a run
    /// without one, `rrae bench` or `rrae eval`, never hashes its data).
    data_fingerprint: std::sync::OnceLock<String>,
    /// The device the steps and the inference run on, with the parameters and moments
    /// resident there while steps run.
    pub(crate) placed: Placed,
    /// The ranks of a data-parallel run ([`Trainer::with_ranks`]); one by default.
    pub(crate) ranks: Ranks,
    /// Whether steps have changed the resident parameters since `model.params` was last
    /// brought up to date ([`Trainer::sync_params`]).
    stale: bool,
}

/// What a device needs for training: every kernel, and the optimiser's.
pub trait Train: Backend<f32> + OptimizerKernel {}
impl<D: Backend<f32> + OptimizerKernel> Train for D {}

/// What one step reads and updates of its trainer, apart from the device.
struct StepCx<'s> {
    model: &'s mut Model,
    ranks: &'s Ranks,
    profile: &'s mut Option<Profile>,
    opt: &'s mut Optimizer,
    z_all: Option<&'s [f32]>,
    dim: usize,
    phase: Phase,
    /// The step within its phase, the phase's length and its base rate.
    step: usize,
    total: usize,
    base: f64,
}

impl<'a> Trainer<'a> {
    pub fn new(model: Model, data: &'a Dataset, debug: bool) -> Self {
        rrae_engine::tape::timing::enable(debug);
        let basis = match model.latent.basis(&model.params) {
            BasisSource::Fixed(b) => Some(b),
            BasisSource::None | BasisSource::Common { .. } | BasisSource::Trained(_) => None,
        };
        let opt = Optimizer::new(model.ir.train.optimizer.clone(), &model.params);
        Trainer {
            model,
            data,
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
            z_all: None,
            trained: None,
            data_fingerprint: std::sync::OnceLock::new(),
            placed: Placed::new(Opened::default()),
            ranks: Ranks::default(),
            stale: false,
        }
    }

    /// Copies the resident parameters into `model.params` if steps have changed them
    /// since the last copy.
    pub fn sync_params(&mut self) {
        if !std::mem::take(&mut self.stale) {
            return;
        }
        let params = &mut self.model.params;
        on_placed!(&self.placed, dev, res => {
            if let Some(r) = res {
                r.download_params(dev, params);
            }
        });
    }

    /// This trainer on `device`: steps, inference, the common basis's latents and the
    /// evaluation all run there from now on.
    pub fn on_device(mut self, device: Opened) -> Self {
        self.sync_params();
        let opt = self.optimizer();
        self.opt = opt;
        self.placed = Placed::new(device);
        self
    }

    /// This trainer as one rank of a data-parallel run: each step takes this rank's
    /// contiguous shard of the global batch, the latent operator runs on the global
    /// batch's latents gathered from every rank (`ops::shard`), the loss is the global
    /// batch's and the gradients are summed over the ranks in rank order, so every
    /// rank makes the same update. An error for more ranks than a batch has samples, or
    /// a latent operator that is not distributed yet.
    pub fn with_ranks(mut self, ranks: Ranks) -> Result<Self> {
        let n = ranks.size();
        let batch = self.model.ir.train.batch.min(self.data.n_train());
        if n > batch.max(1) {
            return Err(EngineError::Unsupported {
                what: format!("{n} ranks for a batch of {batch} samples (a rank would have none)"),
                hint: format!("run at most {batch} ranks, or raise `batch`"),
            }
            .into());
        }
        if let Sharding::Unsupported(why) = self.model.latent.sharding() {
            if n > 1 {
                return Err(EngineError::Unsupported {
                    what: format!("`{}` on {n} ranks", self.model.ir.latent.op.name()),
                    hint: why.to_string(),
                }
                .into());
            }
        }
        self.ranks = ranks;
        Ok(self)
    }

    /// Whether `flag` holds on any rank (one exchange in a run of several ranks), so
    /// that every rank takes the same turn (a stop asked on one of them).
    pub fn on_any_rank(&self, flag: bool) -> Result<bool> {
        if self.ranks.size() == 1 {
            return Ok(flag);
        }
        let mut v = [f64::from(u8::from(flag))];
        self.ranks.sum_f64(&mut v)?;
        Ok(v[0] > 0.0)
    }

    /// How output and metrics.json name the device: `cpu`, `cuda:0 (…)`.
    pub fn device_name(&self) -> String {
        on_placed!(&self.placed, dev, _res => dev.name())
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
        let mut c = plan(&self.model, &self.model.ir.train);
        let ds = c.begin();
        self.set_optimizer(Optimizer::new(
            self.model.ir.train.optimizer.clone(),
            &self.model.params,
        ));
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

    /// The optimiser with its moments, wherever they are: what a checkpoint or a
    /// snapshot keeps.
    pub fn optimizer(&self) -> Optimizer {
        on_placed!(&self.placed, dev, res => match res {
            Some(r) => r.moments(dev, &self.opt),
            None => self.opt.clone(),
        })
    }

    /// Replaces the optimiser; the device copy is made again at the next step.
    pub(crate) fn set_optimizer(&mut self, opt: Optimizer) {
        self.sync_params();
        self.opt = opt;
        on_placed!(&mut self.placed, _dev, res => *res = None);
    }

    /// Puts back parameter values taken with `ParamSet::values` (the moments stay).
    pub fn set_params(&mut self, values: &[Vec<f32>]) {
        self.sync_params();
        let opt = self.optimizer();
        self.opt = opt;
        on_placed!(&mut self.placed, _dev, res => *res = None);
        self.model.params.set_values(values);
    }

    /// One step on the batch of samples `idx` whose rows are `x`; returns the loss.
    pub fn step(&mut self, idx: &[usize], x: Vec<f32>) -> Result<f64> {
        let t0 = Instant::now();
        let phase = self.phase();
        let (done_train, done_fine) = self.controller.as_ref().map_or((0, 0), |c| c.steps());
        let (step, total, base) = match phase {
            Phase::Train => (done_train, self.max_steps(), self.model.ir.train.lr),
            Phase::FineTune => (
                done_fine,
                self.model.ir.train.fine_tune_steps,
                self.model.ir.train.fine_tune_lr,
            ),
        };
        let cx = StepCx {
            model: &mut self.model,
            ranks: &self.ranks,
            profile: &mut self.profile,
            opt: &mut self.opt,
            z_all: self.z_all.as_deref(),
            dim: self.data.dim,
            phase,
            step,
            total,
            base,
        };
        let (value, penalty) =
            on_placed!(&mut self.placed, dev, res => step_on(&*dev, res, cx, idx, x))?;
        self.stale = true;
        self.log.push(StepLog {
            phase,
            step,
            k: self.k(),
            loss: value,
            ms: t0.elapsed().as_secs_f64() * 1e3,
            validation: None,
            lr: learning_rate(&self.model.ir.train.schedule, base, step, total),
            penalty,
        });
        Ok(value)
    }

    fn max_steps(&self) -> usize {
        training_steps(&self.model.ir.latent.op, self.model.ir.train.steps)
    }

    /// Carries out one controller decision. Ending the training phase of an RRAE
    /// computes the common basis, returned as (rank, singular values).
    pub fn apply(&mut self, d: &Decision) -> Result<Option<(usize, Vec<f64>)>> {
        self.sync_params();
        self.decisions.push(d.clone());
        match d.action {
            Action::SetK { k } => self.set_rank(k),
            Action::Save { k } => {
                self.saved = Some(Snapshot {
                    k,
                    params: self.model.params.values(),
                    opt: self.optimizer(),
                });
            }
            Action::Restore { k } => {
                let s =
                    self.saved
                        .take()
                        .filter(|s| s.k == k)
                        .ok_or_else(|| TrainError::Stage {
                            stage: "controller",
                            reason: format!(
                                "asked to restore k = {k}, but no checkpoint of that rank is kept"
                            ),
                        })?;
                self.model.params.set_values(&s.params);
                self.set_optimizer(s.opt.clone());
                self.saved = Some(s);
                self.set_rank(k);
            }
            Action::FineTune { k } => {
                self.set_rank(k);
                let sv = self.end_training()?;
                self.begin_fine_tune()?;
                return Ok(sv);
            }
            Action::Stop => {
                if d.phase == Phase::Train {
                    return self.end_training();
                }
                self.model.freeze_encoder(false);
            }
        }
        Ok(None)
    }

    pub(crate) fn set_rank(&mut self, k: usize) {
        self.model.latent.set_rank(k);
    }

    /// After the training phase of an RRAE: the training latents (the encoder is
    /// frozen from here on, so they serve both stages) and the common basis.
    pub(crate) fn end_training(&mut self) -> Result<Option<(usize, Vec<f64>)>> {
        let k = match self.model.latent.basis(&self.model.params) {
            BasisSource::Common { k } => k,
            BasisSource::Trained(b) => {
                self.basis = Some(b);
                return Ok(None);
            }
            BasisSource::None | BasisSource::Fixed(_) => return Ok(None),
        };
        // U_f is the encoder's own outputs' (a resumed fine-tuning has the folded
        // parameters of the run it resumes, so they are unfolded first).
        self.fold_basis(None);
        let y = self.encode_all(&self.data.train)?;
        let sv = self.common_basis(&y, k);
        let y = match self.fold_basis(self.basis.clone().as_ref().map(|u| (u, &y[..]))) {
            // The encoder's outputs through the folded layers: what `encode_all` now
            // gives, without running the encoder again.
            true => {
                let (m, layers) = (&self.model, self.model.latent.inference_layers());
                on_placed!(&self.placed, dev, _res => infer(dev, &layers, &m.params, &y, m.latent_dim(), 256))?
            }
            false => y,
        };
        self.z_all = Some(y);
        Ok(Some(sv))
    }

    /// Sets the latent's inference layers from U_f ([`rrae_engine::latent::LatentForm::fold_basis`]);
    /// where that changes parameters, the resident copy is dropped so that the next
    /// step uploads them.
    fn fold_basis(&mut self, basis: Option<(&DMatrix<f64>, &[f32])>) -> bool {
        self.sync_params();
        let mut params = self.model.params.clone();
        if !self.model.latent.fold_basis(basis, &mut params) {
            return false;
        }
        self.set_params(&params.values());
        true
    }

    /// Freezes the encoder, projects the training latents on U_f and starts a fresh
    /// optimiser for the decoder.
    pub(crate) fn begin_fine_tune(&mut self) -> Result<()> {
        let Some(y) = self.z_all.take() else {
            return Ok(());
        };
        self.z_all = Some(self.inference_latents(y)?);
        self.model.freeze_encoder(true);
        self.set_optimizer(Optimizer::new(
            self.model.ir.train.optimizer.clone(),
            &self.model.params,
        ));
        self.trained = Some(self.model.params.values());
        Ok(())
    }

    /// Encoder outputs (n × L, row per sample) of `rows`, in chunks.
    pub fn encode_all(&self, rows: &[f32]) -> Result<Vec<f32>> {
        let m = &self.model;
        Ok(
            on_placed!(&self.placed, dev, _res => infer(dev, &m.inference_encoder, &m.params, rows, self.data.dim, 256))?,
        )
    }

    /// Decoder outputs (model units, row per sample) of latents `z`, in chunks.
    pub fn decode_all(&self, z: &[f32]) -> Result<Vec<f32>> {
        let m = &self.model;
        Ok(
            on_placed!(&self.placed, dev, _res => infer(dev, &m.decoder, &m.params, z, m.latent_dim(), 256))?,
        )
    }

    /// Inference latents: encoder outputs `y` mapped by the inference form, `U Uᵀ`
    /// for models with a basis, unchanged otherwise.
    pub fn inference_latents(&self, y: Vec<f32>) -> Result<Vec<f32>> {
        match &self.basis {
            Some(b) => {
                let (l, p) = (self.model.latent_dim(), projector(b));
                Ok(on_placed!(&self.placed, dev, _res => project_rows(dev, &y, l, &p))?)
            }
            None => Ok(y),
        }
    }

    /// U_f: the per-batch truncated bases of the training set (batches of the
    /// training size, in order) side by side, SVD'd again; its leading k vectors.
    fn common_basis(&mut self, y: &[f32], k: usize) -> (usize, Vec<f64>) {
        let l = self.model.latent_dim();
        let n = y.len() / l;
        let mut cols: Vec<DMatrix<f64>> = vec![];
        for start in (0..n).step_by(self.model.ir.train.batch.max(1)) {
            let end = (start + self.model.ir.train.batch).min(n);
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
}

/// One step on device `dev` with the parameters resident in `slot` (uploaded on the
/// first step): the forward, the loss, the backward, the update; returns the loss and
/// the latent operator's penalty within it, if any.
fn step_on<D: Train>(
    dev: &D,
    slot: &mut Option<Resident<D>>,
    cx: StepCx<'_>,
    idx: &[usize],
    x: Vec<f32>,
) -> Result<(f64, Option<f64>)> {
    let StepCx {
        phase,
        step,
        total,
        base,
        ..
    } = cx;
    let res = match slot {
        Some(r) => r,
        slot @ None => {
            let r = Resident::upload(dev, &cx.model.params, cx.opt);
            // The moments live on the device from here on.
            (cx.opt.m, cx.opt.v) = (vec![], vec![]);
            slot.insert(r)
        }
    };
    // A data-parallel step takes this rank's contiguous shard of the global batch.
    let shards = (cx.ranks.size() > 1).then(|| Shards {
        comm: cx.ranks.0.clone(),
        rows: shard_counts(idx.len(), cx.ranks.size()),
    });
    let (idx, x) = match &shards {
        Some(s) => {
            let start = shard_start(&s.rows, s.comm.rank());
            let end = start + s.rows[s.comm.rank()];
            (&idx[start..end], x[start * cx.dim..end * cx.dim].to_vec())
        }
        None => (idx, x),
    };
    let kind = cx.model.ir.train.loss;
    // A variational latent's ε: a function of the seed and the step (`rrae_engine::noise`).
    let mut tape = Tape::new(dev.clone()).with_noise(cx.model.ir.train.seed, step as u64);
    let params = res.bind(&mut tape, &cx.model.params);
    let x = tape.constant(dev.upload(&x), idx.len(), cx.dim);
    let mut penalty_value = None;
    let l = match phase {
        Phase::Train => {
            let mut prof = cx.profile.take();
            let y = cx.model.encode(&mut tape, &params, x, prof.as_mut())?;
            let t1 = Instant::now();
            let y = match &shards {
                Some(s) => gather_rows(&mut tape, s, y)?,
                None => y,
            };
            let (z, penalty) = cx.model.latent.forward(&mut tape, y, &params)?;
            let z = match &shards {
                Some(s) => shard_rows(&mut tape, s, z)?,
                None => z,
            };
            if let Some(p) = prof.as_mut() {
                dev.synchronize();
                p.record("latent", t1);
            }
            let pred = cx.model.decode(&mut tape, &params, z, prof.as_mut());
            *cx.profile = prof;
            let l = match &shards {
                Some(s) => sharded_loss(&mut tape, s, kind, pred?, x)?,
                None => loss(&mut tape, kind, pred?, x),
            };
            match penalty {
                Some(p) => {
                    penalty_value = Some(tape.item(p));
                    add(&mut tape, l, p)?
                }
                None => l,
            }
        }
        Phase::FineTune => {
            let lat = cx.model.latent_dim();
            let rows = match cx.z_all {
                Some(z) => gather(z, lat, idx),
                None => {
                    return Err(TrainError::Stage {
                        stage: "trainer",
                        reason: "fine-tuning started without its latents".into(),
                    })
                }
            };
            let z = tape.constant(dev.upload(&rows), idx.len(), lat);
            let pred = cx.model.decode(&mut tape, &params, z, None)?;
            match &shards {
                Some(s) => sharded_loss(&mut tape, s, kind, pred, x)?,
                None => loss(&mut tape, kind, pred, x),
            }
        }
    };
    let value = tape.item(l);
    // A failed GPU reads back zeros: say so before judging the loss.
    healthy(dev)?;
    let t2 = Instant::now();
    let mut grads = tape.backward(l)?;
    if let Some(p) = cx.profile.as_mut() {
        if phase == Phase::Train {
            dev.synchronize();
            p.record("backward (all layers)", t2);
        }
    }
    let non_finite = |what: String| TrainError::NonFinite {
        phase: phase.name(),
        step,
        what,
        kept: None,
    };
    if !value.is_finite() {
        return Err(non_finite("the loss".into()));
    }
    let grads = match &shards {
        None => res.gradients(dev, &mut grads, &params, &cx.model.params),
        Some(s) => {
            // Summed over the ranks before the check, so every rank judges the same sum.
            let mut g = res.raw_gradients(dev, &mut grads, &params, &cx.model.params);
            sum_over_ranks(dev, &mut g, s, &cx.model.latent_params)?;
            Resident::check(dev, &g, &cx.model.params).map(|()| g)
        }
    }
    .map_err(|name| non_finite(format!("the gradient of {name}")))?;
    let lr = learning_rate(&cx.model.ir.train.schedule, base, step, total);
    res.update(dev, cx.opt, &grads, lr)?;

    healthy(dev)?;
    Ok((value, penalty_value))
}

/// Each gradient summed over the ranks in rank order, on the host, in one exchange for
/// all of them; the latent map's own (`latent`), computed on the global batch alike on
/// every rank, are taken as they are.
fn sum_over_ranks<D: Train>(
    dev: &D,
    grads: &mut [Option<D::Buf<f32>>],
    s: &Shards,
    latent: &std::ops::Range<usize>,
) -> Result<()> {
    let mut host = vec![];
    for (i, g) in grads.iter().enumerate() {
        if let Some(buf) = g.as_ref().filter(|_| !latent.contains(&i)) {
            host.extend(dev.download(buf));
        }
    }
    s.comm.sum_f32(&mut host)?;
    let mut at = 0;
    for (i, g) in grads.iter_mut().enumerate() {
        if let Some(buf) = g.as_mut().filter(|_| !latent.contains(&i)) {
            let n = D::len(buf);
            *buf = dev.upload(&host[at..at + n]);
            at += n;
        }
    }
    Ok(())
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
