//! `rrae`: check, format and (with the runtime) train `.rrae` model files.

mod fmt;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rrae",
    version,
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
}

fn read(file: &PathBuf) -> Result<String, ExitCode> {
    std::fs::read_to_string(file).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", file.display());
        ExitCode::from(2)
    })
}

fn run(cli: Cli) -> Result<(), ExitCode> {
    match cli.command {
        Command::Check { file } => {
            let text = read(&file)?;
            let checked = rrae_lang::check_str(&file.to_string_lossy(), &text);
            match (&checked.result, checked.render_error()) {
                (Ok(ir), _) => {
                    print!("{ir}");
                    Ok(())
                }
                (Err(_), Some(diag)) => {
                    eprint!("{diag}");
                    Err(ExitCode::from(1))
                }
                (Err(_), None) => Err(ExitCode::from(1)),
            }
        }
        Command::Fmt { file, write, check } => {
            let text = read(&file)?;
            let name = file.to_string_lossy().to_string();
            let formatted = match fmt::format_source(&name, &text) {
                Ok(f) => f,
                Err(diag) => {
                    eprint!("{diag}");
                    return Err(ExitCode::from(1));
                }
            };
            if check {
                if formatted != text {
                    eprintln!(
                        "{} is not formatted; run `rrae fmt --write {}`",
                        file.display(),
                        file.display()
                    );
                    return Err(ExitCode::from(1));
                }
            } else if write {
                let tmp = file.with_extension("rrae.tmp");
                std::fs::write(&tmp, &formatted)
                    .and_then(|_| std::fs::rename(&tmp, &file))
                    .map_err(|e| {
                        eprintln!("error: cannot write {}: {e}", file.display());
                        ExitCode::from(2)
                    })?;
            } else {
                print!("{formatted}");
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
