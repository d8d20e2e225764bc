//! `rrae run` and `rrae bench`.

use crate::progress::Bar;
use rrae_engine::device::{DeviceChoice, Found, Opened};
use rrae_report::eval::median;
use rrae_report::run::{default_dir, run as run_model, Overrides, RunOptions};
use rrae_report::RunError;
use rrae_train::schedule::RunControl;
use rrae_train::TrainError;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

fn debug() -> bool {
    std::env::var("RRAE_DEBUG").is_ok_and(|v| v != "0" && !v.is_empty())
}

/// Opens the device asked for (`--device`) and says which it is on the first line of
/// output (standard error when standard output carries JSON): `device: cpu`, with the
/// reason when `auto` found no GPU. Asking for a GPU that cannot be used is an error.
pub fn open_device(choice: DeviceChoice, json: bool) -> Result<Opened, ExitCode> {
    use rrae_engine::collective::{launched_local_rank, launched_size};
    // Under `mpirun` the ranks of one machine take its GPUs in turn.
    let shift = match launched_size() {
        Some(n) if n > 1 => launched_local_rank().unwrap_or(0),
        _ => 0,
    };
    match choice.open_shifted(shift) {
        Ok(Found { device, note }) => {
            let line = match note {
                // The short reason; `--device cuda` gives the whole of it.
                Some(why) => format!(
                    "device: {} (no CUDA GPU: {})",
                    device.name(),
                    why.split(" (looked for").next().unwrap_or(&why)
                ),
                None => format!("device: {}", device.name()),
            };
            // Under `mpirun` rank 0 speaks for the job.
            let quiet = rrae_engine::collective::launched_rank().is_some_and(|r| r > 0);
            if json {
                errln!("{line}");
            } else if !quiet {
                outln!("{line}");
            }
            Ok(device)
        }
        Err(e) => {
            errln!("error: {e}");
            Err(ExitCode::from(1))
        }
    }
}

/// Flags of `rrae run` beyond the overrides.
pub struct How {
    pub quiet: bool,
    pub progress: crate::progress::Style,
    /// The device [`open_device`] opened.
    pub device: Opened,
    pub resume: bool,
    pub stop_after: Option<usize>,
    /// Write the evaluated images to RUN_DIR/images/.
    pub save_images: bool,
}

/// Ctrl-C and SIGTERM set the stop switch: the run ends after the current step and
/// writes a checkpoint. Another signal a second or more later exits at once; repeats
/// within the second are ignored, because `timeout` and process-group kills deliver
/// the same signal twice.
/// The run folder a signal handler's last words point to, and the model file.
static RUN_DIR: std::sync::OnceLock<(PathBuf, String)> = std::sync::OnceLock::new();

/// `rrae run FILE --resume DIR`, with the real file and folder: `--resume` repeats
/// the run's own `--set`, `--steps` and `--seed` (from DIR/command.json), so this is
/// the whole command.
fn resume_command(file: &str, dir: &std::path::Path) -> String {
    use rrae_report::command::quote;
    format!(
        "rrae run {} --resume {}",
        quote(file),
        quote(&dir.to_string_lossy())
    )
}

/// The overrides `rrae run FILE --resume DIR` trains with: the run's own from
/// `DIR/command.json` (the ones given must be none or the same), after checking that
/// the model file still has the text the run started from. A finished run ends the
/// command here, successfully (`Err(ExitCode::SUCCESS)`): there is nothing to resume.
pub fn resumed_overrides(
    dir: &std::path::Path,
    file: &std::path::Path,
    given: Overrides,
) -> Result<Overrides, ExitCode> {
    // A finished run (its metrics written, no checkpoint left) is complete: say so
    // and change nothing.
    if dir.join("metrics.json").is_file() && !rrae_train::checkpoint::path_in(dir).exists() {
        errln!(
            "{} is a finished run: nothing to resume, and nothing was changed (metrics.json holds its result; `rrae eval {}` re-evaluates it; to train again, give a new folder with --out)",
            dir.display(),
            dir.display()
        );
        return Err(ExitCode::SUCCESS);
    }
    let recorded = rrae_report::run::Command::read(dir).map_err(fail)?;
    let Some(c) = recorded else { return Ok(given) };
    let (o, note) = c.resumed_with(&given).map_err(|e| {
        errln!("error: cannot resume {}: {e}", dir.display());
        ExitCode::from(2)
    })?;
    if let Some(note) = note {
        errln!("note: {note}");
    }
    let name = file.to_string_lossy();
    let text = rrae_lang::files::read_text(file, rrae_lang::files::TEXT_CAP)
        .and_then(|t| o.source(&name, &t));
    if let Ok(text) = text {
        let now = format!("{:016x}", rrae_artifact::source_hash(&text));
        if now != c.source_hash {
            errln!(
                "error: cannot resume {}: {name} is not the text this run started from (it was {}{}; with the same options it now hashes to {now})\n  help: resume with the file as it was, or start a new run folder with --out",
                dir.display(),
                c.file,
                c.overrides.args(),
            );
            return Err(ExitCode::from(2));
        }
    }
    Ok(o)
}

/// True while training steps run (the trainer sets it): a signal outside them ends the
/// process at once, since no step will come to stop after.
static STEPPING: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
    std::sync::OnceLock::new();

fn stepping() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    STEPPING.get_or_init(Default::default).clone()
}

/// Ends the process from the signal handler, saying how the run continues.
fn quit_now(lead: &str) -> ! {
    match RUN_DIR.get() {
        Some((dir, file)) => errln!("\n{lead}: `{}` continues from the last checkpoint; if training had finished, `rrae eval {}` evaluates its model.safetensors and writes model.rra", resume_command(file, dir), dir.display()),
        None => errln!("\n{lead}"),
    }
    std::process::exit(130)
}

fn stop_on_signals() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    static STOP: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
        std::sync::OnceLock::new();
    STOP.get_or_init(|| {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let steps = stepping();
        let first = std::sync::Mutex::new(None::<std::time::Instant>);
        let handler = ctrlc::set_handler(move || {
            let mut first = first.lock().unwrap_or_else(|e| e.into_inner());
            match *first {
                // Loading data or evaluating: there is no step to stop after.
                None if !steps.load(Ordering::SeqCst) => {
                    quit_now("stopped outside the training steps (loading data or evaluating)")
                }
                Some(t) if t.elapsed().as_secs_f64() >= 1.0 => quit_now("quit at once"),
                Some(_) => {}
                None => {
                    *first = Some(std::time::Instant::now());
                    flag.store(true, Ordering::SeqCst);
                    errln!("\nstopping after this step and writing a checkpoint (Ctrl-C again to quit now)");
                }
            }
        });
        if let Err(e) = handler {
            errln!("warning: Ctrl-C will not write a checkpoint: {e}");
        }
        stop
    })
    .clone()
}

pub fn run(
    mut ir: rrae_lang::Ir,
    source: &str,
    file: &str,
    out: Option<PathBuf>,
    o: Overrides,
    how: How,
) -> Result<(), ExitCode> {
    o.apply(&mut ir);
    let dir = out.unwrap_or_else(|| default_dir(&ir));
    let _ = RUN_DIR.set((dir.clone(), file.to_string()));
    let ranks = join_ranks(source, &how.device)?;
    let rank = ranks.rank();
    let mut bar = Bar::styled(how.quiet, how.progress);
    let opts = RunOptions {
        debug: debug(),
        device: how.device.clone(),
        control: RunControl {
            stop_after: how.stop_after,
            stop: stop_on_signals(),
            stepping: stepping(),
        },
        resume: how.resume,
        save_images: how.save_images,
        ranks: ranks.clone(),
        command: Some(rrae_report::run::Command::new(file, &o, source)),
    };
    if rank > 0 {
        // Rank 0 writes the folder and reports; this rank trains its shards beside it.
        let mut silent = rrae_train::schedule::Silent;
        return match rrae_report::run::follow(&ir, source, &dir, &mut silent, &opts) {
            Ok(()) => Ok(()),
            Err(e @ RunError::Train(TrainError::Interrupted { .. })) => {
                errln!("rank {rank}: {e}");
                Err(ExitCode::from(130))
            }
            Err(e) => {
                errln!("error on rank {rank}: {e}");
                ranks.abort(1)
            }
        };
    }
    match run_model(&ir, source, file, &dir, &mut bar, &opts) {
        Ok(r) => {
            outln!("run folder: {}", dir.display());
            print_metrics(&r.metrics);
            if let (Some(k), Some(spent)) = (r.k, &r.search_steps) {
                outln!(
                    "adaptive search: k* = {k} after {} training steps ({} decisions in decisions.jsonl)",
                    r.train_steps_done,
                    r.decisions.len()
                );
                outln!("  where they went: {spent}");
                // A search the budget cut short ends where it was, not where it settled.
                let ended = r
                    .decisions
                    .iter()
                    .rev()
                    .find(|d| matches!(d.action, rrae_train::control::Action::FineTune { .. }));
                if let Some(d) = ended.filter(|d| d.reason.contains("step budget")) {
                    errln!(
                        "warning: the adaptive search did not finish: {}; k* = {k} is where it stopped, not a rank it found. Give it more steps (`--steps`, or `train.steps`), as docs/runtime.md explains",
                        d.reason
                    );
                }
            }
            outln!(
                "{} train + {} fine-tune steps in {:.1} s ({:.1} ms/step median; {:.2} s waiting for data)",
                r.train_steps_done,
                r.fine_tune_steps_done,
                r.wall_seconds,
                r.median_ms_per_step,
                r.data_wait_seconds
            );
            Ok(())
        }
        Err(e @ RunError::Train(TrainError::Interrupted { .. })) => {
            // The error's hint names FILE; here the file is known.
            let generic = format!("rrae run FILE --resume {}", dir.display());
            errln!(
                "{}",
                e.to_string().replace(&generic, &resume_command(file, &dir))
            );
            Err(ExitCode::from(130))
        }
        Err(e) => {
            let on = if ranks.size() > 1 { " on rank 0" } else { "" };
            errln!("error{on}: {e}");
            // This run's log, if it got as far as writing one (a folder another run
            // holds has that run's).
            let losses = dir.join("losses.csv");
            if losses.is_file() && !matches!(e, RunError::InUse { .. }) {
                errln!("  (losses so far are in {})", losses.display());
            }
            if ranks.size() > 1 {
                // The other ranks wait in their next exchange: end them too.
                ranks.abort(1)
            }
            Err(ExitCode::from(1))
        }
    }
}

/// The ranks of this run: MPI's when an MPI launcher started several (`mpirun -np N`,
/// `srun`), after checking that every rank runs the same model file and program, with
/// NCCL moving the data when the ranks train on GPUs; one otherwise. A build without the
/// `mpi` feature started as several ranks is an error, since each would train alone
/// into the same folder.
fn join_ranks(source: &str, device: &Opened) -> Result<rrae_engine::collective::Ranks, ExitCode> {
    use rrae_engine::collective::{agree, launched_size, Ranks};
    let n = launched_size().unwrap_or(1);
    if n <= 1 {
        return Ok(Ranks::default());
    }
    #[cfg(feature = "mpi")]
    {
        let mpi = rrae_engine::collective::Mpi::init().map_err(fail)?;
        let ranks = Ranks(std::sync::Arc::new(mpi));
        let program = format!(
            "model source {:016x}; rrae {} ({})",
            rrae_artifact::source_hash(source),
            env!("CARGO_PKG_VERSION"),
            env!("RRAE_COMMIT")
        );
        if let Err(e) = agree(&*ranks, "the model file or the rrae program", &program) {
            errln!("error on rank {}: {e}", ranks.rank());
            return Err(ExitCode::from(1));
        }
        match device {
            Opened::Cuda(gpu) => {
                let rank = ranks.rank();
                match rrae_engine::collective::Nccl::join(ranks.0.clone(), gpu.ordinal()) {
                    Ok(nccl) => Ok(Ranks(std::sync::Arc::new(nccl))),
                    Err(e) => {
                        errln!("error on rank {rank}: {e}");
                        Err(ExitCode::from(1))
                    }
                }
            }
            Opened::Cpu(_) => Ok(ranks),
        }
    }
    #[cfg(not(feature = "mpi"))]
    {
        let _ = (source, agree, device);
        errln!(
            "error: started as {n} MPI ranks, but this rrae was built without MPI\n  help: build it with `cargo install --path runtime/cli --features mpi` (README, \"Beyond one machine\"), or run one process"
        );
        Err(ExitCode::from(2))
    }
}

fn print_metrics(m: &rrae_report::eval::Metrics) {
    outln!(
        "train error {:.2} %, test error {:.2} %{} (original units)",
        m.train_error,
        m.test_error,
        m.interpolation_error
            .map(|e| format!(", interpolation error {e:.2} %"))
            .unwrap_or_default()
    );
    outln!(
        "train error {:.2} %, test error {:.2} %{} (normalised units)",
        m.train_error_normalised,
        m.test_error_normalised,
        m.interpolation_error_normalised
            .map(|e| format!(", interpolation error {e:.2} %"))
            .unwrap_or_default()
    );
    if let Some(e) = m.test_error_parametric {
        outln!("test error with latents interpolated over the training grid (the authors' AE_interpolate): {e:.2} %");
    }
    for (what, fit) in [
        ("interpolated samples", &m.interpolation_bump_fit),
        ("random samples", &m.sampling_bump_fit),
    ] {
        if let Some(f) = fit {
            outln!(
                "{what}: bump-fit error {:.2} ± {:.2} % (median {:.2} %)",
                f.mean,
                f.std,
                f.median
            );
        }
    }
    if let (Some(a), Some(r)) = (m.classifier_accuracy, m.fid_reconstruction) {
        let f = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into());
        outln!(
            "FID, local classifier features (test accuracy {:.1} %): reconstructions {r:.2}, interpolations {}, random samples {}",
            100.0 * a,
            f(m.fid_interpolation),
            f(m.fid_sampling)
        );
    }
    let sv: Vec<String> = m
        .singular_values_latent
        .iter()
        .take(6)
        .map(|s| format!("{s:.2e}"))
        .collect();
    outln!(
        "latent rank {} (normalised singular values: {} …)",
        m.latent_rank,
        sv.join(", ")
    );
}

/// `rrae eval RUN_DIR`: re-evaluates a saved run.
pub fn eval(dir: PathBuf, device: &Opened, save_images: bool) -> Result<(), ExitCode> {
    match rrae_report::run::eval_saved(&dir, device, save_images) {
        Ok(m) => {
            print_metrics(&m);
            Ok(())
        }
        Err(e) => {
            errln!("error: {e}");
            Err(ExitCode::from(1))
        }
    }
}

/// What `rrae bench` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchPhase {
    /// A training step: forward, latent operator, loss, backward, update.
    Train,
    /// A fine-tuning step: the decoder on precomputed projected latents, encoder frozen.
    FineTune,
    /// Inference of one batch: encode, project on U_f, decode (no tape).
    Inference,
}

/// `rrae bench`: times `warmup + steps` steps of `phase` on the model's data and reports
/// the median, the achieved GFLOP/s (see `rrae_engine::cost`) and the peak resident
/// memory; with `RRAE_DEBUG=1` also the per-op breakdown.
pub fn bench(
    mut ir: rrae_lang::Ir,
    steps: usize,
    warmup: usize,
    json: bool,
    phase: BenchPhase,
    device: &Opened,
) -> Result<(), ExitCode> {
    let rounds = warmup + steps;
    // Fine-tuning and inference need a trained model's common basis: one training step
    // makes one (its values do not change the cost).
    let (train_steps, fine_steps) = match phase {
        BenchPhase::Train => (rounds, 0),
        BenchPhase::FineTune => (1, rounds),
        BenchPhase::Inference => (1, 0),
    };
    rrae_report::run::set_steps(&mut ir, train_steps);
    // Steps only: a validation pass is not part of a step's time.
    ir.train.validate_every = 0;
    ir.train.fine_tune_steps = fine_steps;
    rrae_report::run::fits(&ir, device).map_err(fail)?;
    let data_ir = ir.data.clone().ok_or(RunError::NoData).map_err(fail)?;
    let data = rrae_train::data::Dataset::load(&data_ir).map_err(fail)?;
    let model = rrae_engine::model::Model::lower(&ir, ir.train.seed).map_err(fail)?;
    if phase == BenchPhase::FineTune && !model.latent.has_common_basis(&model.params) {
        return Err(fail(RunError::from(
            rrae_engine::EngineError::Unsupported {
                what: format!(
                    "fine-tuning `{}`, whose latent operator has no common basis",
                    ir.name
                ),
                hint: "bench the training step, or a model with `svd_truncate` or `weak_svd`"
                    .into(),
            },
        )));
    }
    let flops = rrae_engine::cost::flops(&model);
    let timed_phase = match phase {
        BenchPhase::FineTune => rrae_train::train::Phase::FineTune,
        BenchPhase::Train | BenchPhase::Inference => rrae_train::train::Phase::Train,
    };
    let free_before = device.gpu_free();
    let mut t = rrae_train::train::Trainer::new(model, &data, debug()).on_device(device.clone());
    // Allocation counters when the last warm-up step and the last timed step are
    // reported (the run goes on to build the common basis, which is not a step).
    let mut after_warmup = crate::alloc_count::totals();
    let mut end = after_warmup;
    t.run(&mut |e: &rrae_train::schedule::Event| {
        if let rrae_train::schedule::Event::Step(rrae_train::train::StepLog {
            phase, step, ..
        }) = e
        {
            if *phase == timed_phase && step + 1 == warmup {
                after_warmup = crate::alloc_count::totals();
            }
            if *phase == timed_phase && step + 1 == rounds {
                end = crate::alloc_count::totals();
            }
        }
    })
    .map_err(fail)?;
    let (ms, per_sample) = match phase {
        BenchPhase::Train | BenchPhase::FineTune => {
            let ms: Vec<f64> = t
                .log
                .iter()
                .filter(|s| s.phase == timed_phase)
                .skip(warmup)
                .map(|s| s.ms)
                .collect();
            let flop = match phase {
                BenchPhase::FineTune => flops.fine_tune,
                BenchPhase::Train | BenchPhase::Inference => flops.train,
            };
            (ms, flop)
        }
        BenchPhase::Inference => {
            let (ms, counts) = time_inference(&t, &ir, &data, warmup, rounds).map_err(fail)?;
            (after_warmup, end) = counts;
            (ms, flops.forward)
        }
    };
    let timed = steps.max(1) as f64;
    print_bench(
        &Figures {
            model: &ir,
            params: t.model.params.count(),
            what: match phase {
                BenchPhase::Train => "training step",
                BenchPhase::FineTune => "fine-tuning step",
                BenchPhase::Inference => "inference batch",
            },
            gflop: per_sample * ir.train.batch as f64 / 1e9,
            allocs: (end.0 - after_warmup.0) as f64 / timed,
            alloc_mib: (end.1 - after_warmup.1) as f64 / timed / (1 << 20) as f64,
            ms,
            device: t.device_name(),
            gpu_mib: free_before
                .zip(device.gpu_free())
                .map(|(before, after)| before.saturating_sub(after) as f64 / (1 << 20) as f64),
        },
        json,
    );
    if let Some(s) = rrae_report::run::profile_report(&t) {
        err!("{s}");
    }
    Ok(())
}

/// What `rrae bench` measured, for printing.
struct Figures<'a> {
    model: &'a rrae_lang::Ir,
    params: usize,
    /// The unit timed: `training step`, `fine-tuning step`, `inference batch`.
    what: &'static str,
    /// The products of one unit, in GFLOP.
    gflop: f64,
    /// Allocations and MiB allocated per timed unit.
    allocs: f64,
    alloc_mib: f64,
    /// Each timed unit's wall time.
    ms: Vec<f64>,
    /// The device, and on a GPU the memory the run took there (free memory before the
    /// model was made less free memory after the timed steps; the memory pool keeps
    /// what the steps freed, so this is their peak).
    device: String,
    gpu_mib: Option<f64>,
}

/// Prints the figures as text or one JSON line.
fn print_bench(f: &Figures, json: bool) {
    let (ms, what, gflop, allocs, alloc_mib) = (&f.ms, f.what, f.gflop, f.allocs, f.alloc_mib);
    let ir = f.model;
    let med = median(ms.clone());
    let min = ms.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = ms.iter().cloned().fold(0.0, f64::max);
    let batch = ir.train.batch;
    let peak = peak_rss_mib();
    let threads = rayon_threads();
    if json {
        let v = serde_json::json!({
            "model": ir.name, "params": f.params, "batch": batch,
            "input": ir.input.dims(), "phase": what, "median_ms": med, "min_ms": min,
            "max_ms": max, "steps": ms.len(), "gflop_per_step": gflop,
            "gflops": gflop / (med / 1e3), "images_per_s": batch as f64 / (med / 1e3),
            "peak_rss_mib": peak, "threads": threads,
            "allocations_per_step": allocs, "allocated_mib_per_step": alloc_mib,
            "device": f.device, "gpu_mib": f.gpu_mib,
        });
        outln!("{v}");
    } else {
        outln!(
            "{}: {} params, batch {batch}, input {}: median {med:.1} ms per {what} over {} (min {min:.1}, max {max:.1}; {threads} threads)",
            ir.name,
            f.params,
            ir.input,
            ms.len(),
        );
        let peak = peak.map_or("unknown".into(), |m| format!("{m:.0} MiB"));
        outln!(
            "{gflop:.2} GFLOP per {what} (the products): {:.1} GFLOP/s, {:.0} images/s; peak memory {peak}",
            gflop / (med / 1e3),
            batch as f64 / (med / 1e3)
        );
        outln!(
            "{allocs:.0} allocations ({alloc_mib:.0} MiB) per timed {what}, served from memory the allocator keeps"
        );
        if let Some(mib) = f.gpu_mib {
            outln!("GPU memory taken by the run on {}: {mib:.0} MiB", f.device);
        }
    }
}

/// Allocation counters (count, bytes) after the warm-up and at the end.
type Counts = ((u64, u64), (u64, u64));

/// Times `rounds` inference batches (encode, project, decode) of the training rows,
/// the first `warmup` untimed.
fn time_inference(
    t: &rrae_train::train::Trainer,
    ir: &rrae_lang::Ir,
    data: &rrae_train::data::Dataset,
    warmup: usize,
    rounds: usize,
) -> Result<(Vec<f64>, Counts), RunError> {
    let batch = ir.train.batch.min(data.n_train()).max(1);
    let rows = &data.train[..batch * data.dim];
    let mut ms = vec![];
    let mut after_warmup = crate::alloc_count::totals();
    for i in 0..rounds {
        if i == warmup {
            after_warmup = crate::alloc_count::totals();
        }
        let t0 = std::time::Instant::now();
        let y = t.encode_all(rows)?;
        let z = t.inference_latents(y)?;
        let out = t.decode_all(&z)?;
        std::hint::black_box(out);
        if i >= warmup {
            ms.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok((ms, (after_warmup, crate::alloc_count::totals())))
}

/// The peak resident set size of this process (Linux's `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Prints `e` as `error: …` and gives the exit code of a failed command (1).
pub(crate) fn fail<E: Into<RunError>>(e: E) -> ExitCode {
    errln!("error: {}", e.into());
    ExitCode::from(1)
}
