//! `rrae`: check, format and (with the runtime) train `.rrae` model files.

#[macro_use]
mod out;
mod artifact;
mod colour;
mod complete;
mod fid;
mod fmt;
mod lsp;
mod lsp_frame;
mod progress;
mod runs;
mod train;

use clap::{CommandFactory, Parser, Subcommand};

/// Training allocates and frees tens of megabytes per layer per step; glibc's malloc
/// returns such blocks to the OS each time, so every step paid for fresh page faults
/// (sys time was 2/3 of wall time). mimalloc keeps them for reuse.
#[global_allocator]
static ALLOC: alloc_count::Counting = alloc_count::Counting;

/// mimalloc behind two relaxed counters, so that `rrae bench` can say how many
/// allocations a training step makes.
pub mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    static COUNT: AtomicU64 = AtomicU64::new(0);
    static BYTES: AtomicU64 = AtomicU64::new(0);

    pub struct Counting;

    /// Allocations (and reallocations) so far, and their bytes.
    pub fn totals() -> (u64, u64) {
        (COUNT.load(Relaxed), BYTES.load(Relaxed))
    }

    fn count(size: usize) {
        COUNT.fetch_add(1, Relaxed);
        BYTES.fetch_add(size as u64, Relaxed);
    }

    // SAFETY: every call forwards to mimalloc with the caller's arguments unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count(new_size);
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

/// Tells mimalloc to keep freed memory committed, so that the buffers of one training
/// step are served from the same pages in the next: by default it returns pages idle
/// for 10 ms to the OS, and a step's large activations were faulted in and zeroed
/// again every step (docs/performance.md has the measurement).
fn keep_freed_memory() {
    // Indices of `mi_option_e` in the bundled mimalloc v3 header.
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: plain option stores, read by mimalloc on its next purge decision.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 1);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
    }
}
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rrae",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("RRAE_COMMIT"), ")"),
    about = "Rank Reduction Autoencoders from declarative .rrae model files"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, resolve and shape-check a model file; print the lowered graph with shapes and parameter counts.
    Check {
        /// The .rrae file.
        file: PathBuf,
        /// Change a setting of the model file: `train.lr=3e-4`, `latent.k=4`, `latent=svd_truncate(k = adaptive)`, `data.split=0.9`, `L=32` (a `let`); checked as if written in the file. Repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<rrae_lang::set::Assignment>,
    },
    /// Print a model file in canonical form (or rewrite it with --write).
    Fmt {
        /// The .rrae file.
        file: PathBuf,
        /// Rewrite the file in place (atomically) instead of printing.
        #[arg(long)]
        write: bool,
        /// Exit with 1 if the file is not already formatted.
        #[arg(long, conflicts_with = "write")]
        check: bool,
    },
    /// Train and evaluate a model; write metrics, losses, the model and plots to a run folder.
    Run {
        /// The .rrae file.
        file: PathBuf,
        /// The run folder (default: runs/<model name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Change a setting of the model file: `train.lr=3e-4`, `latent.k=4`, `latent=svd_truncate(k = adaptive)`, `data.split=0.9`, `L=32` (a `let`); checked as if written in the file. Repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<rrae_lang::set::Assignment>,
        /// Override `train.steps` (and an adaptive search's `max_steps`).
        #[arg(long)]
        steps: Option<usize>,
        /// Override `train.fine_tune_steps`.
        #[arg(long)]
        fine_tune_steps: Option<usize>,
        /// Override `train.seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// How progress is shown: `bar`, or `json` (one JSON object per event on standard output, for programs).
        #[arg(long, value_enum, default_value_t = progress::Style::Bar)]
        progress: progress::Style,
        /// Continue the interrupted run in this folder from its checkpoint (same file and overrides).
        #[arg(long, value_name = "RUN_DIR", conflicts_with = "out")]
        resume: Option<PathBuf>,
        /// Stop after this many steps (training and fine-tuning together) and write a checkpoint, as Ctrl-C does.
        #[arg(long, value_name = "N")]
        stop_after: Option<usize>,
        /// Also write the evaluated images to RUN_DIR/images/ (test, reconstructions, interpolations, samples: f32 .npy in original units), for metrics computed elsewhere.
        #[arg(long)]
        save_images: bool,
        /// Where to train and evaluate: `cpu`, `cuda`, `cuda:N`, or `auto` (the first GPU if a CUDA driver and a device are found, else the CPU).
        #[arg(long, default_value = "auto")]
        device: rrae_engine::device::DeviceChoice,
    },
    /// Re-evaluate the model saved in a run folder with the run's seed (writes eval.json, which `rrae compare` prefers, and redraws the plots).
    Eval {
        /// The run folder written by `rrae run`.
        dir: PathBuf,
        /// Also write the evaluated images to DIR/images/ (test, reconstructions, interpolations, samples: f32 .npy in original units), for metrics computed elsewhere.
        #[arg(long)]
        save_images: bool,
        /// Where to train and evaluate: `cpu`, `cuda`, `cuda:N`, or `auto` (the first GPU if a CUDA driver and a device are found, else the CPU).
        #[arg(long, default_value = "auto")]
        device: rrae_engine::device::DeviceChoice,
    },
    /// Train several models (or read finished run folders) and tabulate them as the paper's
    /// Table 1, with their latent singular values, interpolations and samples side by side.
    Compare {
        /// .rrae files to train, or run folders to read.
        inputs: Vec<PathBuf>,
        /// Where runs and the table go.
        #[arg(long, default_value = "runs/compare")]
        out: PathBuf,
        /// Change a setting of every model file: `train.lr=3e-4`, `latent.k=4`, `latent=svd_truncate(k = adaptive)`, `data.split=0.9`, `L=32` (a `let`); checked as if written in the file. Repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<rrae_lang::set::Assignment>,
        /// Override `train.steps` of every file.
        #[arg(long)]
        steps: Option<usize>,
        /// Override `train.fine_tune_steps` of every file.
        #[arg(long)]
        fine_tune_steps: Option<usize>,
        /// Override `train.seed` of every file.
        #[arg(long)]
        seed: Option<u64>,
        /// Read a file's run folder under --out if it finished, instead of training
        /// again; resume it from its checkpoint if it was interrupted.
        #[arg(long)]
        reuse: bool,
        #[arg(long, short)]
        quiet: bool,
        /// Where to train and evaluate: `cpu`, `cuda`, `cuda:N`, or `auto` (the first GPU if a CUDA driver and a device are found, else the CPU).
        #[arg(long, default_value = "auto")]
        device: rrae_engine::device::DeviceChoice,
    },
    /// Train one model file over every combination of `--set` values (each run in its own folder under --out, as `rrae run` processes), then tabulate them: mean ± spread over seeds, and the compare table and figures over every run. The same command continues an interrupted sweep.
    Sweep {
        /// The .rrae file.
        file: PathBuf,
        /// One axis: `PATH=V1,V2,…` or `PATH=A..B` (integers, both ends included: `train.seed=0..4` is five seeds). Repeatable; a single value is a fixed change.
        #[arg(long = "set", value_name = "PATH=VALUES")]
        set: Vec<runs::Axis>,
        /// Where the runs and the tables go (default: runs/sweep-<file name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// How many runs train at once.
        #[arg(long, short, default_value_t = 1)]
        jobs: usize,
        /// Override `train.steps` of every run.
        #[arg(long)]
        steps: Option<usize>,
        /// Override `train.fine_tune_steps` of every run.
        #[arg(long)]
        fine_tune_steps: Option<usize>,
        /// Where each run trains: `cpu`, `cuda`, `cuda:N` or `auto`.
        #[arg(long, default_value = "auto")]
        device: String,
    },
    /// Describe an artifact (a run folder's model.rra): shapes, k, errors, size, source hash.
    Inspect {
        /// The artifact, or the run folder holding it.
        artifact: PathBuf,
    },
    /// Draw random samples from an artifact (N(mean, cov) of the training coefficients, or the prior N(0, I) of a VAE or VRRAE: what the run's report sampled).
    Sample {
        /// The artifact, or the run folder holding it.
        artifact: PathBuf,
        /// How many.
        #[arg(short, default_value_t = 16)]
        n: usize,
        /// Output: .png (an image grid) or .npy.
        #[arg(short, long)]
        out: PathBuf,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Encode samples (.npy or IDX, original units) to bottleneck coefficients (.npy).
    Encode {
        /// The artifact, or the run folder holding it.
        artifact: PathBuf,
        /// Samples: .npy, or IDX (.gz).
        input: PathBuf,
        /// Coefficients: .npy, one row per sample.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Decode coefficients (.npy) to samples (.npy, or .png for images).
    Decode {
        /// The artifact, or the run folder holding it.
        artifact: PathBuf,
        /// Coefficients: .npy, one row of k per sample.
        input: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// The standard FID (Inception-v3 pool features) between two image sets (.npy or IDX,
    /// [N, C, H, W] or [N, H, W]); needs a build with `--features inception` (docs/fid.md).
    Fid {
        /// The real images.
        real: PathBuf,
        /// The generated images.
        generated: PathBuf,
        /// The value shown as black.
        #[arg(long, default_value_t = 0.0)]
        black: f64,
        /// The value shown as white.
        #[arg(long, default_value_t = 255.0)]
        white: f64,
        /// The TorchScript FID Inception (default: $RRAE_INCEPTION).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Time training steps of a model: prints the median milliseconds per step.
    Bench {
        /// The .rrae file.
        file: PathBuf,
        /// Timed steps.
        #[arg(long, default_value_t = 20)]
        steps: usize,
        /// Change a setting of the model file: `train.lr=3e-4`, `latent.k=4`, `latent=svd_truncate(k = adaptive)`, `data.split=0.9`, `L=32` (a `let`); checked as if written in the file. Repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<rrae_lang::set::Assignment>,
        /// Untimed warm-up steps.
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        /// Print one JSON line (for bench/compare_torch.sh).
        #[arg(long)]
        json: bool,
        /// What to time: a training step, a fine-tuning step, or inference of a batch.
        #[arg(long, value_enum, default_value_t = train::BenchPhase::Train)]
        phase: train::BenchPhase,
        /// Where to train and evaluate: `cpu`, `cuda`, `cuda:N`, or `auto` (the first GPU if a CUDA driver and a device are found, else the CPU).
        #[arg(long, default_value = "auto")]
        device: rrae_engine::device::DeviceChoice,
    },
    /// Print a completion script for a shell: `rrae completions bash > /etc/bash_completion.d/rrae`,
    /// `rrae completions zsh > ~/.zfunc/_rrae`, `rrae completions fish > ~/.config/fish/completions/rrae.fish`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Serve the Language Server Protocol on stdin/stdout, for editors: diagnostics as
    /// you type, hover with shapes and parameter counts, go to definition, completion.
    Lsp,
}

fn read(file: &std::path::Path) -> Result<String, ExitCode> {
    rrae_lang::files::read_text(file, rrae_lang::files::TEXT_CAP).map_err(|e| {
        errln!("error: cannot read {}: {e}", file.display());
        ExitCode::from(2)
    })
}

/// Checks a file with the command line's `--set` applied, printing the diagnostic on
/// failure: the IR and the text that was checked.
fn checked(
    file: &std::path::Path,
    set: &[rrae_lang::set::Assignment],
) -> Result<(rrae_lang::Ir, String), ExitCode> {
    let name = file.to_string_lossy();
    let text = rrae_lang::set::apply(&name, &read(file)?, set).map_err(|e| {
        err!("{}", colour::diagnostic(&e.render()));
        ExitCode::from(1)
    })?;
    let checked = rrae_lang::check_str(&name, &text);
    let diag = checked.render_error();
    match (checked.result, diag) {
        (Ok(ir), _) => Ok((ir, text)),
        (Err(_), diag) => {
            err!("{}", colour::diagnostic(&diag.unwrap_or_default()));
            if !set.is_empty() {
                let args: Vec<String> = set.iter().map(|a| format!("--set {a}")).collect();
                errln!("  note: checked with {} applied to {name}", args.join(" "));
            }
            Err(ExitCode::from(1))
        }
    }
}

fn run(cli: Cli) -> Result<(), ExitCode> {
    match cli.command {
        Command::Run {
            file,
            out,
            set,
            steps,
            fine_tune_steps,
            seed,
            quiet,
            progress,
            resume,
            stop_after,
            save_images,
            device,
        } => {
            let o = rrae_report::run::Overrides {
                set,
                steps,
                fine_tune_steps,
                seed,
            };
            let o = match &resume {
                Some(dir) => train::resumed_overrides(dir, &file, o)?,
                None => o,
            };
            let (ir, text) = checked(&file, &o.set)?;
            let device = train::open_device(device, progress == progress::Style::Json)?;
            let how = train::How {
                quiet,
                progress,
                device,
                resume: resume.is_some(),
                stop_after,
                save_images,
            };
            train::run(ir, &text, &file.to_string_lossy(), resume.or(out), o, how)
        }
        Command::Sweep {
            file,
            set,
            out,
            jobs,
            steps,
            fine_tune_steps,
            device,
        } => {
            if let Err(e) = device.parse::<rrae_engine::device::DeviceChoice>() {
                errln!("error: --device {device}: {e}");
                return Err(ExitCode::from(2));
            }
            runs::sweep(runs::Sweep {
                file,
                axes: set,
                out,
                jobs,
                base: rrae_report::run::Overrides {
                    steps,
                    fine_tune_steps,
                    ..Default::default()
                },
                device,
            })
        }
        Command::Eval {
            dir,
            save_images,
            device,
        } => train::eval(dir, &train::open_device(device, false)?, save_images),
        Command::Inspect { artifact } => artifact::inspect(artifact),
        Command::Compare {
            inputs,
            out,
            set,
            steps,
            fine_tune_steps,
            seed,
            reuse,
            quiet,
            device,
        } => {
            let o = rrae_report::run::Overrides {
                set,
                steps,
                fine_tune_steps,
                seed,
            };
            runs::compare(inputs, out, o, reuse, (quiet, device))
        }
        Command::Sample {
            artifact,
            n,
            out,
            seed,
        } => artifact::sample(artifact, n, out, seed),
        Command::Encode {
            artifact,
            input,
            out,
        } => artifact::encode(artifact, input, out),
        Command::Decode {
            artifact,
            input,
            out,
        } => artifact::decode(artifact, input, out),
        Command::Fid {
            real,
            generated,
            black,
            white,
            model,
        } => fid::fid(real, generated, (black, white), model),
        Command::Bench {
            file,
            set,
            steps,
            warmup,
            json,
            phase,
            device,
        } => {
            let (ir, _) = checked(&file, &set)?;
            let device = train::open_device(device, json)?;
            train::bench(ir, steps, warmup, json, phase, &device)
        }
        Command::Check { file, set } => check(&file, &set),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rrae", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
        Command::Lsp => lsp::run().map_err(|e| {
            errln!("error: the language server stopped: {e}");
            ExitCode::from(1)
        }),
        Command::Fmt { file, write, check } => format(&file, write, check),
    }
}

/// `rrae check FILE`: the IR and the memory estimate, or the diagnostic.
fn check(file: &std::path::Path, set: &[rrae_lang::set::Assignment]) -> Result<(), ExitCode> {
    let (ir, _) = checked(file, set)?;
    out!("{ir}");
    outln!("{}", rrae_lang::memory::estimate(&ir));
    Ok(())
}

/// `rrae fmt FILE`: prints the formatted source, rewrites it (`--write`, atomically) or
/// fails when it is not formatted (`--check`).
fn format(file: &std::path::Path, write: bool, check: bool) -> Result<(), ExitCode> {
    let text = read(file)?;
    let name = file.to_string_lossy().to_string();
    let formatted = match fmt::format_source(&name, &text) {
        Ok(f) => f,
        Err(diag) => {
            err!("{}", colour::diagnostic(&diag));
            return Err(ExitCode::from(1));
        }
    };
    if check {
        if formatted != text {
            errln!(
                "{} is not formatted; run `rrae fmt --write {}`",
                file.display(),
                file.display()
            );
            return Err(ExitCode::from(1));
        }
    } else if write {
        let tmp = file.with_extension("rrae.tmp");
        std::fs::write(&tmp, &formatted)
            .and_then(|_| std::fs::rename(&tmp, file))
            .map_err(|e| {
                errln!("error: cannot write {}: {e}", file.display());
                ExitCode::from(2)
            })?;
    } else {
        out!("{formatted}");
    }
    Ok(())
}

fn main() -> ExitCode {
    keep_freed_memory();
    // SIGPIPE stays ignored (Rust's default): a closed pipe is a failed write, which
    // `out` turns into a quiet non-zero exit once the command has finished its work,
    // so `rrae run … | head` still writes its run folder.
    let code = match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    };
    out::failed().unwrap_or(code)
}
