//! `rrae run`: check → load data → lower → train → evaluate → write the run folder.
//!
//! The folder holds `metrics.json`, `losses.csv`, `model.safetensors` (parameters,
//! the basis U_f and the normalisation, readable from PyTorch too), `basis.npy`,
//! `latents.npy` (encoder outputs of the training set), `coefficients.npy`, the
//! artifact `model.rra` (zero-copy, for other programs: the `rrae-artifact` crate), and
//! PNG plots: `loss.png`, `singular_values.png`, `singular_values_log.png`,
//! `reconstructions.png`, `interpolations.png`, `samples.png`, and `parametric.png` for
//! data with parameters.

use crate::error::{Result, RunError};
use crate::eval::{median, Evaluator, Gallery, Metrics};
use rrae_engine::model::Model;
use rrae_lang::Ir;
use rrae_train::checkpoint::ARTIFACT;
use rrae_train::data::Dataset;
use rrae_train::output::write_atomic;
use rrae_train::schedule::{Progress, RunControl, RunFolder};
use rrae_train::train::{Phase, Trainer};
use rrae_train::TrainError;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use crate::command::{set_steps, Command, Overrides};

/// How `run` goes: debug output, the stop switch, and whether to resume.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub debug: bool,
    /// Where the steps, the common basis and the evaluation run.
    pub device: rrae_engine::device::Opened,
    pub control: RunControl,
    /// Continue from `DIR/checkpoint.safetensors`.
    pub resume: bool,
    /// Write the evaluated sets to `DIR/images/` ([`write_sets`]).
    pub save_images: bool,
    /// The ranks of a data-parallel run (`mpirun -np N rrae run`); one by default.
    /// Rank 0 runs [`run`] (the run folder, the evaluation), the others [`follow`].
    pub ranks: rrae_engine::collective::Ranks,
    /// How the run was asked for, written to `DIR/command.json` (a resumed run writes
    /// it again: the same, or with the lengths it was resumed with).
    pub command: Option<Command>,
}

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub model: String,
    /// The model file's text as it trained: with the command line's `--set` applied.
    pub source: String,
    /// The command line's `--set PATH=VALUE`, in order.
    pub set: Vec<String>,
    /// The device the run trained and evaluated on: `cpu`, `cuda:0 (…)`.
    pub device: String,
    pub seed: u64,
    pub steps: usize,
    pub fine_tune_steps: usize,
    pub batch: usize,
    pub lr: f64,
    /// The decoder fine-tuning's learning rate (`fine_tune_lr`, `lr` unless set).
    pub fine_tune_lr: f64,
    pub params: usize,
    /// The latent width L (a Diabolo AE's is its k).
    pub latent_dim: usize,
    pub train_samples: usize,
    pub test_samples: usize,
    pub normalisation: rrae_train::data::Norm,
    pub wall_seconds: f64,
    pub train_seconds: f64,
    pub median_ms_per_step: f64,
    /// Steps trained in each phase (an adaptive search decides the first).
    pub train_steps_done: usize,
    pub fine_tune_steps_done: usize,
    /// The rank the run ended at (the adaptive search's k*).
    pub k: Option<usize>,
    /// The adaptive search's target loss.
    pub target_loss: Option<f64>,
    pub decisions: Vec<rrae_train::control::Decision>,
    /// Where an adaptive search's training steps went (warm-up, kept and given-up
    /// ranks, settling); absent for a fixed rank.
    pub search_steps: Option<rrae_train::control::SearchSteps>,
    /// Time the trainer waited for the loader stage, in total.
    pub data_wait_seconds: f64,
    pub final_train_loss: Option<f64>,
    pub final_fine_tune_loss: Option<f64>,
    /// Singular values of the concatenated per-batch bases (before U_f was cut).
    pub common_basis_singular_values: Vec<f64>,
    pub metrics: Metrics,
    /// Why fine-tuning stopped early, when it diverged: the metrics are then those of
    /// the model as training left it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fine_tune_diverged: Option<String>,
}

fn write_model(
    path: &Path,
    t: &Trainer,
    ir_source: &str,
    file: &str,
    norm: rrae_train::data::Norm,
) -> Result<()> {
    use safetensors::tensor::{Dtype, TensorView};
    // The model file's absolute path: `rrae eval` re-checks the source from wherever it
    // is run, and the data paths in it are relative to the file.
    let absolute = std::path::Path::new(file).canonicalize();
    let file = absolute
        .as_ref()
        .map_or(file.into(), |p| p.to_string_lossy());
    let file = file.as_ref();
    let mut bufs: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = t
        .model
        .params
        .params
        .iter()
        .map(|p| {
            let bytes = p.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (p.name.clone(), p.shape.clone(), bytes, Dtype::F32)
        })
        .collect();
    if let Some(b) = &t.basis {
        let data = rrae_engine::linalg::to_rows(b);
        bufs.push((
            "latent.basis".into(),
            vec![b.nrows(), b.ncols()],
            data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Dtype::F64,
        ));
    }
    // safetensors panics on a repeated name; refuse one here instead.
    let mut names: Vec<&String> = bufs.iter().map(|b| &b.0).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(RunError::write(
            path,
            format!("two tensors are named `{}`", w[0]),
        ));
    }
    let views: Vec<(String, TensorView)> = bufs
        .iter()
        .filter_map(|(n, s, b, d)| {
            TensorView::new(*d, s.clone(), b)
                .ok()
                .map(|v| (n.clone(), v))
        })
        .collect();
    let meta = std::collections::HashMap::from([
        ("source".to_string(), ir_source.to_string()),
        ("file".to_string(), file.to_string()),
        ("norm_shift".to_string(), norm.shift.to_string()),
        ("norm_scale".to_string(), norm.scale.to_string()),
        (
            "weight_layout".to_string(),
            "linear: [in, out]; conv: [out, in*kh*kw]; conv_transpose: [in, out*kh*kw]".to_string(),
        ),
    ]);
    let bytes = safetensors::serialize(views, &Some(meta))
        .map_err(|e| RunError::write(path.to_path_buf(), e))?;
    Ok(write_atomic(path, &bytes)?)
}

/// The folder of a run where `--save-images` writes the evaluated sets.
pub const IMAGES: &str = "images";

/// Writes the evaluated sets as `DIR/images/{test,reconstructions,interpolations,
/// samples}.npy`, f32 in original units, shaped `[N, …sample shape]`, so that any
/// other metric (another FID implementation, precision and recall) can be computed
/// on exactly the images rrae's own were. A set this evaluation did not make (no test
/// set, no samples) has its file from an earlier evaluation removed, so the folder
/// never mixes two evaluations.
pub fn write_sets(dir: &Path, sets: &crate::eval::Sets, sample: &[usize]) -> Result<()> {
    let folder = dir.join(IMAGES);
    std::fs::create_dir_all(&folder).map_err(|e| RunError::write(folder.clone(), e))?;
    let dim: usize = sample.iter().product::<usize>().max(1);
    for (name, rows) in sets.named() {
        let path = folder.join(format!("{name}.npy"));
        if rows.is_empty() {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(RunError::write(path, e))
                }
                _ => continue,
            }
        }
        let mut shape = vec![rows.len() / dim];
        shape.extend_from_slice(sample);
        write_atomic(&path, &rrae_engine::files::npy_f32_bytes(&shape, rows))?;
    }
    Ok(())
}

/// Evaluates a trained model and writes the basis, latents, coefficients and plots
/// (and, with `save_images`, the evaluated sets).
fn evaluate_and_write(
    dir: &Path,
    trainer: &Trainer,
    ir: &Ir,
    save_images: bool,
) -> Result<(Metrics, Gallery)> {
    let (metrics, gallery) = Evaluator {
        t: trainer,
        cfg: ir.eval.clone(),
    }
    .run(ir.train.seed)?;
    if let Some(b) = &trainer.basis {
        let bytes =
            rrae_engine::files::npy_bytes(b.nrows(), b.ncols(), &rrae_engine::linalg::to_rows(b));
        write_atomic(&dir.join("basis.npy"), &bytes)?;
    }
    crate::figures::write(dir, trainer, &metrics, &gallery)?;
    let l = trainer.model.latent_dim();
    let lat: Vec<f64> = gallery.latents.iter().map(|&v| v as f64).collect();
    write_atomic(
        &dir.join("latents.npy"),
        &rrae_engine::files::npy_bytes(lat.len() / l, l, &lat),
    )?;
    let c = &gallery.coefficients;
    let cbytes =
        rrae_engine::files::npy_bytes(c.nrows(), c.ncols(), &rrae_engine::linalg::to_rows(c));
    write_atomic(&dir.join("coefficients.npy"), &cbytes)?;
    if save_images {
        write_sets(dir, &gallery.sets, &trainer.data.sample)?;
    }
    Ok((metrics, gallery))
}

/// The seed recorded in a run folder's `metrics.json`, if it has one.
fn run_seed(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("metrics.json")).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["seed"].as_u64()
}

/// The model text a run folder's `metrics.json` says it trained from, if it has one.
fn run_source(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("metrics.json")).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["source"]
        .as_str()
        .map(str::to_string)
}

/// Re-evaluates the model saved in a run folder (`rrae eval`): writes `eval.json`
/// and redraws the plots; the training log and the model are left as they are.
pub fn eval_saved(
    dir: &Path,
    device: &rrae_engine::device::Opened,
    save_images: bool,
) -> Result<Metrics> {
    if !dir.is_dir() {
        return Err(RunError::read(dir.to_path_buf(), "no such run folder"));
    }
    let _lock = crate::lock::RunLock::acquire(dir)?;
    let path = dir.join("model.safetensors");
    let saved = crate::load::read_model(&path)?;
    let checked = rrae_lang::check_str(&saved.file, &saved.source);
    // The weights must be this run's: metrics.json records the text it trained from.
    if let Some(trained) = run_source(dir) {
        let (theirs, ours) = (
            rrae_artifact::source_hash(&saved.source),
            rrae_artifact::source_hash(&trained),
        );
        if theirs != ours {
            return Err(RunError::read(
                path,
                format!(
                    "it holds another model's weights (its source hashes to {theirs:016x}; this run, \
                     {}, trained from text hashing to {ours:016x}), so its metrics.json, losses.csv and \
                     report would describe a model other than the one evaluated; nothing was \
                     written\n  help: to evaluate those weights, give them a folder of their own: \
                     `mkdir NEW && cp {} NEW/ && rrae eval NEW`",
                    dir.display(),
                    dir.join("model.safetensors").display()
                ),
            ));
        }
    }
    let mut ir = match (&checked.result, checked.render_error()) {
        (Ok(ir), _) => ir.clone(),
        (Err(_), diag) => {
            return Err(RunError::read(
                path,
                format!(
                    "its model source no longer checks:\n{}",
                    diag.unwrap_or_default()
                ),
            ))
        }
    };
    // The run's own seed (`rrae run --seed` overrides the file's): the evaluation draws
    // its interpolation pairs and samples from it, so a re-evaluation repeats the run's.
    if let Some(seed) = run_seed(dir) {
        ir.train.seed = seed;
    }
    let data_ir = ir.data.as_ref().ok_or(RunError::NoData)?;
    let mut model = Model::lower(&ir, ir.train.seed)?;
    saved.restore(&mut model.params, &path)?;
    let data = Dataset::load(data_ir)?;
    let mut trainer = Trainer::new(model, &data, false).on_device(device.clone());
    if saved.basis.is_some() {
        trainer.basis = saved.basis.clone();
    }
    let (metrics, gallery) = evaluate_and_write(dir, &trainer, &ir, save_images)?;
    let json = serde_json::to_string_pretty(&metrics)
        .map_err(|e| RunError::write(dir.join("eval.json"), e))?;
    write_atomic(&dir.join("eval.json"), json.as_bytes())?;
    // The artifact anew, from model.safetensors: for a run whose own was never written
    // (a full disk or a second Ctrl-C at the end) or is damaged. Its training summary
    // comes from the run's log.
    let mut art = crate::artifact::build(
        &trainer,
        &crate::artifact::Summary {
            source: &saved.source,
            metrics: &metrics,
            coefficients: &gallery.coefficients,
            wall_seconds: f64::NAN,
        },
    );
    let (train_steps, fine_tune_steps) = steps_logged(dir);
    art.training.train_steps = train_steps;
    art.training.fine_tune_steps = fine_tune_steps;
    if let Some(b) = &trainer.basis {
        art.training.k = Some(b.ncols() as u32);
    }
    write_atomic(&dir.join(ARTIFACT), &crate::artifact::to_bytes(&art)?)?;
    crate::report::write(dir, &ir)?;
    Ok(metrics)
}

/// Training and fine-tuning steps in a run folder's `losses.csv` (0 where it is gone
/// or unreadable).
fn steps_logged(dir: &Path) -> (u64, u64) {
    let rows = rrae_train::schedule::losses::read(&dir.join("losses.csv")).unwrap_or_default();
    let count = |phase: Phase| rows.iter().filter(|r| r.phase == phase.name()).count() as u64;
    (count(Phase::Train), count(Phase::FineTune))
}

/// Trains and evaluates `ir` (checked from `source`, read from `file`), writing
/// everything to `dir`; with `opts.resume`, continues the checkpoint there.
/// Refuses a model whose estimated peak memory (`rrae_lang::memory`) exceeds what the
/// machine has available: before any allocation, rather than an abort mid-training or
/// a trained model lost to an evaluation that cannot fit. On a GPU the parameters, the
/// optimiser's moments and a step's activations must also fit in its free memory (the
/// data stays on the host).
pub fn fits(ir: &Ir, device: &rrae_engine::device::Opened) -> Result<()> {
    use rrae_engine::device::Device;
    use rrae_lang::memory::{estimate, human};
    let m = estimate(ir);
    if let Some(free) = device.gpu_free() {
        let need = m.parameters + m.activations;
        if need > free as f64 {
            return Err(RunError::TooBig {
                what: format!("training `{}` on {}", ir.name, device.name()),
                need: human(need),
                available: human(free as f64),
                lower: format!(
                    "lower `batch` (a step's activations take {}), or train with `--device cpu`",
                    human(m.activations)
                ),
            });
        }
    }
    let Some(available) = rrae_engine::device::Cpu.memory_available() else {
        return Ok(());
    };
    if m.peak() <= available as f64 {
        return Ok(());
    }
    let big = m.largest();
    let what = if m.training() >= m.evaluating() {
        "training"
    } else {
        "evaluation"
    };
    Err(RunError::TooBig {
        what: format!("{what} of `{}`", ir.name),
        need: human(m.peak()),
        available: human(available as f64),
        lower: format!("the largest part is {}: {}", big.part, big.lower),
    })
}

/// Creates (if need be) and locks a run folder for this process.
fn open_folder(dir: &Path) -> Result<crate::lock::RunLock> {
    if dir.exists() && !dir.is_dir() {
        return Err(RunError::NotAFolder {
            path: dir.to_path_buf(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| RunError::write(dir.to_path_buf(), e))?;
    crate::lock::RunLock::acquire(dir)
}

/// The lowered model, the checkpoint to resume from (with its path) and the data.
type Prepared = (
    Model,
    Option<(rrae_train::checkpoint::Checkpoint, PathBuf)>,
    Dataset,
);

/// What a run needs before its first step, each of which can fail on user input: the
/// lowered model (with `RRAE_INIT`'s weights), the checkpoint to resume, and the data.
fn prepare(
    ir: &Ir,
    data_ir: &rrae_lang::ir::DataIr,
    dir: &Path,
    progress: &mut dyn Progress,
    opts: &RunOptions,
) -> Result<Prepared> {
    // Lowering first: an operator the runtime cannot train fails before any data loads.
    let mut model = Model::lower(ir, ir.train.seed)?;
    // Experiment hook: `RRAE_INIT=FILE` starts from the weights of a model file (in
    // rrae's layout, e.g. another framework's initialisation written by
    // bench/torch_rrae.py --export) instead of the seeded initialisation.
    if let Some(p) = std::env::var_os("RRAE_INIT").filter(|_| !opts.resume) {
        let p = std::path::PathBuf::from(p);
        crate::load::read_model(&p)?.restore(&mut model.params, &p)?;
        progress.message(&format!("initial weights from {} (RRAE_INIT)", p.display()));
    }
    let checkpoint = if opts.resume {
        let path = rrae_train::checkpoint::path_in(dir);
        Some((rrae_train::checkpoint::Checkpoint::read(&path)?, path))
    } else {
        None
    };
    progress.message(&format!("loading data `{}`", data_ir.name));
    let data = Dataset::load(data_ir)?;
    Ok((model, checkpoint, data))
}

pub fn run(
    ir: &Ir,
    source: &str,
    file: &str,
    dir: &Path,
    progress: &mut dyn Progress,
    opts: &RunOptions,
) -> Result<Report> {
    let t0 = Instant::now();
    let data_ir = ir.data.as_ref().ok_or(RunError::NoData)?;
    fits(ir, &opts.device)?;
    let created = !dir.exists();
    let lock = open_folder(dir)?;
    let (model, checkpoint, data) = match prepare(ir, data_ir, dir, progress, opts) {
        Ok(v) => v,
        Err(e) => {
            // Nothing was written: a folder this run created goes again (only if empty).
            drop(lock);
            if created {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(e);
        }
    };
    let _lock = lock;
    if opts.debug {
        progress.message(&format!("lowered graph:\n{}", model.describe()));
    }
    let mut trainer = trainer(model, &data, source, checkpoint, dir, progress, opts)?;
    // Recorded once the run (or the checkpoint it resumes, with the lengths it is
    // resumed with) is accepted: a refused resume leaves the record as it was.
    if let Some(c) = &opts.command {
        c.write(dir)?;
    }
    let t_train = Instant::now();
    let result = rrae_train::schedule::run(
        &mut trainer,
        &opts.control,
        progress,
        Some(RunFolder {
            path: dir,
            artifact: crate::artifact::interim,
        }),
    );
    let train_seconds = t_train.elapsed().as_secs_f64();
    let diverged = keep_training_on_divergence(result, &mut trainer, progress)?;
    progress.message("evaluating");
    write_model(
        &dir.join("model.safetensors"),
        &trainer,
        source,
        file,
        data.norm,
    )?;
    let (metrics, gallery) = evaluate_and_write(dir, &trainer, ir, opts.save_images)?;
    let art = crate::artifact::build(
        &trainer,
        &crate::artifact::Summary {
            source,
            metrics: &metrics,
            coefficients: &gallery.coefficients,
            wall_seconds: t0.elapsed().as_secs_f64(),
        },
    );
    write_atomic(&dir.join(ARTIFACT), &crate::artifact::to_bytes(&art)?)?;
    let mut report = report_of(
        ir,
        &trainer,
        &data,
        metrics,
        Timing {
            wall_seconds: t0.elapsed().as_secs_f64(),
            train_seconds,
        },
        diverged.as_ref(),
    );
    if let Some(c) = &opts.command {
        report.set = c.overrides.set.iter().map(|a| a.to_string()).collect();
    }
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| RunError::write(dir.join("metrics.json"), e))?;
    write_atomic(&dir.join("metrics.json"), json.as_bytes())?;
    // A finished run has nothing to resume: its last checkpoint (from an interruption
    // or a `checkpoint_every`) would only let `--resume` train part of it again.
    let checkpoint = rrae_train::checkpoint::path_in(dir);
    match std::fs::remove_file(&checkpoint) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(RunError::write(checkpoint, e));
        }
        Ok(()) | Err(_) => {}
    }
    crate::report::write(dir, ir)?;
    if let Some(s) = profile_report(&trainer) {
        progress.message(&s);
    }
    match diverged {
        Some((step, what)) => Err(TrainError::NonFinite {
            phase: "fine_tune",
            step,
            what,
            kept: Some(dir.to_path_buf()),
        }
        .into()),
        None => Ok(report),
    }
}

/// The trainer of a run on `opts`' device and ranks, from its checkpoint when resuming.
fn trainer<'d>(
    model: Model,
    data: &'d Dataset,
    source: &str,
    checkpoint: Option<(rrae_train::checkpoint::Checkpoint, PathBuf)>,
    dir: &Path,
    progress: &mut dyn Progress,
    opts: &RunOptions,
) -> Result<Trainer<'d>> {
    let mut trainer = Trainer::new(model, data, opts.debug)
        .on_device(opts.device.clone())
        .with_ranks(opts.ranks.clone())?;
    trainer.source = source.to_string();
    if let Some((ck, path)) = checkpoint {
        let step = ck.step();
        ck.restore(&mut trainer, &path)?;
        progress.message(&format!("resuming {} after step {step}", dir.display()));
    }
    Ok(trainer)
}

/// A rank other than 0 of a data-parallel run: the same training as rank 0's [`run`],
/// step for step (its shard of each batch, the exchanges), without a run folder: rank
/// 0 alone writes the folder, the checkpoints and the artifact, and evaluates. With
/// `resume`, it reads the checkpoint in `dir` as rank 0 does (a folder every rank
/// sees: one machine, or a shared file system).
pub fn follow(
    ir: &Ir,
    source: &str,
    dir: &Path,
    progress: &mut dyn Progress,
    opts: &RunOptions,
) -> Result<()> {
    let data_ir = ir.data.as_ref().ok_or(RunError::NoData)?;
    let (model, checkpoint, data) = prepare(ir, data_ir, dir, progress, opts)?;
    let mut trainer = trainer(model, &data, source, checkpoint, dir, progress, opts)?;
    let result = rrae_train::schedule::run(&mut trainer, &opts.control, progress, None);
    // A fine-tuning that diverged is rank 0's to report; this rank is done either way.
    match result {
        Err(TrainError::NonFinite {
            phase: "fine_tune", ..
        }) if trainer.trained.is_some() => Ok(()),
        other => Ok(other?),
    }
}

/// Wall-clock figures of a run for its report.
struct Timing {
    wall_seconds: f64,
    train_seconds: f64,
}

/// What `metrics.json` records of a finished run.
fn report_of(
    ir: &Ir,
    trainer: &Trainer,
    data: &Dataset,
    metrics: Metrics,
    timing: Timing,
    diverged: Option<&(usize, String)>,
) -> Report {
    let last = |p: Phase| {
        trainer
            .log
            .iter()
            .rev()
            .find(|s| s.phase == p)
            .map(|s| s.loss)
    };
    Report {
        model: ir.name.clone(),
        source: trainer.source.clone(),
        set: Vec::new(),
        device: trainer.device_name(),
        seed: ir.train.seed,
        steps: ir.train.steps,
        fine_tune_steps: ir.train.fine_tune_steps,
        batch: ir.train.batch,
        lr: ir.train.lr,
        fine_tune_lr: ir.train.fine_tune_lr,
        params: trainer.model.params.count(),
        latent_dim: trainer.model.latent_dim(),
        train_samples: data.n_train(),
        test_samples: data.n_test(),
        normalisation: data.norm,
        wall_seconds: timing.wall_seconds,
        train_seconds: timing.train_seconds,
        median_ms_per_step: median(
            trainer
                .log
                .iter()
                .filter(|s| s.phase == Phase::Train)
                .map(|s| s.ms)
                .collect(),
        ),
        train_steps_done: trainer
            .log
            .iter()
            .filter(|s| s.phase == Phase::Train)
            .count(),
        fine_tune_steps_done: trainer
            .log
            .iter()
            .filter(|s| s.phase == Phase::FineTune)
            .count(),
        k: trainer
            .model
            .latent
            .rank()
            .or_else(|| trainer.basis.as_ref().map(|b| b.ncols())),
        target_loss: trainer.controller.as_ref().and_then(|c| c.target()),
        decisions: trainer.decisions.clone(),
        search_steps: trainer
            .controller
            .as_ref()
            .and_then(|c| c.search_steps().cloned()),
        data_wait_seconds: trainer.data_wait.as_secs_f64(),
        final_train_loss: last(Phase::Train),
        final_fine_tune_loss: last(Phase::FineTune),
        common_basis_singular_values: trainer.common_singular_values.clone(),
        metrics,
        fine_tune_diverged: diverged.map(|(step, what)| {
            format!("{what} became NaN or infinite at fine-tuning step {step}; the metrics are those of the model as training left it")
        }),
    }
}

/// A fine-tuning that diverged loses nothing of training: the model goes back to where
/// training left it (to be evaluated and written as usual) and the step and what
/// diverged are returned, for the error that follows. Any other error is passed on.
fn keep_training_on_divergence(
    result: rrae_train::Result<()>,
    trainer: &mut Trainer,
    progress: &mut dyn Progress,
) -> Result<Option<(usize, String)>> {
    Ok(match result {
        Err(TrainError::NonFinite {
            phase: "fine_tune",
            step,
            what,
            ..
        }) if trainer.trained.is_some() => {
            if let Some(values) = trainer.trained.take() {
                trainer.set_params(&values);
            }
            progress.message(&format!(
                "{what} became NaN or infinite at fine-tuning step {step}: keeping the model as training left it"
            ));
            Some((step, what))
        }
        other => {
            other?;
            None
        }
    })
}

/// The `RRAE_DEBUG=1` report: data wait, forward time per layer and backward time
/// per op, averaged over the calls since profiling began; `None` when it is off.
pub fn profile_report(trainer: &Trainer) -> Option<String> {
    let p = trainer.profile.as_ref()?;
    let mut s = format!(
        "data wait: {:.1} ms over {} steps (the loader prefetches {} batches)\nper-op forward time (train phase):\n",
        trainer.data_wait.as_secs_f64() * 1e3,
        trainer.log.len(),
        rrae_train::schedule::loader::DEPTH
    );
    let row = |s: &mut String, label: &str, d: Duration, n: usize| {
        s.push_str(&format!(
            "  {:<60} {:>9.2} ms/call × {n}\n",
            label,
            d.as_secs_f64() * 1e3 / n.max(1) as f64
        ))
    };
    for (label, d, n) in &p.rows {
        row(&mut s, label, *d, *n);
    }
    s.push_str("backward time per op:\n");
    for (label, d, n) in rrae_engine::tape::timing::take() {
        row(&mut s, &label, d, n);
    }
    Some(s)
}

/// The default run folder: `runs/<model name>`.
pub fn default_dir(ir: &Ir) -> PathBuf {
    PathBuf::from("runs").join(&ir.name)
}
