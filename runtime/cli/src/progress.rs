//! The terminal progress bar of `rrae run` (indicatif), fed by trainer events.

use indicatif::{ProgressBar, ProgressStyle};
use rrae_runtime::run::Progress;
use rrae_runtime::train::Event;

pub struct Bar {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Bar {
    pub fn new(quiet: bool) -> Bar {
        Bar { bar: None, quiet }
    }
}

impl Progress for Bar {
    fn event(&mut self, e: &Event) {
        match e {
            Event::Start { phase, steps } => {
                if let Some(b) = self.bar.take() {
                    b.finish();
                }
                if self.quiet {
                    return;
                }
                let b = ProgressBar::new(*steps as u64);
                let style = ProgressStyle::with_template(
                    "{prefix:>10} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                b.set_style(style);
                b.set_prefix(phase.name());
                self.bar = Some(b);
            }
            Event::Step { step, loss, .. } => {
                if let Some(b) = &self.bar {
                    b.set_position(*step as u64 + 1);
                    if step % 10 == 0 {
                        b.set_message(format!("loss {loss:.3}"));
                    }
                }
            }
            Event::Basis {
                rank,
                singular_values,
            } => {
                if let Some(b) = self.bar.take() {
                    b.finish();
                }
                if !self.quiet {
                    let s0 = singular_values.first().copied().unwrap_or(1.0);
                    let head: Vec<String> = singular_values
                        .iter()
                        .take(rank + 2)
                        .map(|s| format!("{:.3}", s / s0))
                        .collect();
                    eprintln!("common basis U_f: rank {rank} (normalised singular values of the stacked per-batch bases: {})", head.join(", "));
                }
            }
        }
    }

    fn message(&mut self, msg: &str) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
        if !self.quiet {
            eprintln!("{msg}");
        }
    }
}
