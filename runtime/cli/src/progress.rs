//! The terminal side of the monitor stage: an indicatif progress bar per phase, and
//! the controller's decisions printed above it as they happen.

use indicatif::{ProgressBar, ProgressStyle};
use rrae_train::control::Action;
use rrae_train::schedule::Event;
use rrae_train::schedule::Progress;

pub struct Bar {
    bar: Option<ProgressBar>,
    quiet: bool,
    /// An adaptive search announces its first rank; then every decision is shown.
    adaptive: bool,
    /// `--progress json`: every event as a JSON line on standard output instead, for
    /// programs that show the run their own way (the Python package's `rrae.run`);
    /// steps at most every quarter second, and every step with a validation loss.
    json: Option<std::time::Instant>,
}

/// How `rrae run` shows its progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Style {
    /// A progress bar per phase on standard error.
    Bar,
    /// One JSON object per event on standard output (steps throttled).
    Json,
}

impl Bar {
    pub fn new(quiet: bool) -> Bar {
        Bar {
            bar: None,
            quiet,
            adaptive: false,
            json: None,
        }
    }

    pub fn styled(quiet: bool, style: Style) -> Bar {
        let mut b = Bar::new(quiet);
        if style == Style::Json {
            // The first step is always shown.
            b.json = std::time::Instant::now().checked_sub(std::time::Duration::from_secs(1));
        }
        b
    }

    /// The event as a JSON line, throttled for steps.
    fn json_event(last: &mut std::time::Instant, e: &Event) {
        if let Event::Step(s) = e {
            if s.validation.is_none() && last.elapsed().as_secs_f64() < 0.25 {
                return;
            }
            *last = std::time::Instant::now();
        }
        if let Ok(line) = serde_json::to_string(e) {
            outln!("{line}");
        }
    }

    /// A line above the bar (or on stderr when there is none).
    fn line(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => errln!("{msg}"),
        }
    }
}

impl Progress for Bar {
    fn event(&mut self, e: &Event) {
        if let Some(last) = self.json.as_mut() {
            return Bar::json_event(last, e);
        }
        if self.quiet && !matches!(e, Event::Decision(_)) {
            return;
        }
        match e {
            Event::Start { phase, steps, from } => {
                if let Some(b) = self.bar.take() {
                    b.finish();
                }
                let b = ProgressBar::new(*steps as u64);
                let style = ProgressStyle::with_template(
                    "{prefix:>10} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                b.set_style(style);
                b.set_prefix(phase.name());
                b.set_position(*from as u64);
                self.bar = Some(b);
            }
            Event::Step(s) => {
                let (step, loss, k) = (&s.step, &s.loss, &s.k);
                if let Some(b) = &self.bar {
                    b.set_position(*step as u64 + 1);
                    if step % 10 == 0 {
                        b.set_message(format!("k {k} loss {loss:.3}"));
                    }
                }
            }
            Event::Decision(d) => {
                let what = match &d.action {
                    Action::SetK { k } => format!("set k = {k}"),
                    Action::Save { k } => format!("save k = {k}"),
                    Action::Restore { k } => format!("restore k = {k}"),
                    Action::FineTune { k } => format!("fine-tune at k = {k}"),
                    Action::Stop => "stop".to_string(),
                };
                // Fixed schedules decide only their phase ends; say nothing for those.
                self.adaptive |= matches!(d.action, Action::SetK { .. });
                if self.adaptive {
                    self.line(&format!(
                        "step {:>6}  k {:>3}  {what}: {}",
                        d.step, d.k, d.reason
                    ));
                }
            }
            Event::Basis {
                rank,
                singular_values,
            } => {
                let s0 = singular_values.first().copied().unwrap_or(1.0);
                let head: Vec<String> = singular_values
                    .iter()
                    .take(rank + 2)
                    .map(|s| format!("{:.3}", s / s0))
                    .collect();
                self.line(&format!("common basis U_f: rank {rank} (normalised singular values of the stacked per-batch bases: {})", head.join(", ")));
            }
            Event::Checkpoint { step, path } => {
                self.line(&format!("checkpoint after step {step}: {}", path.display()));
            }
            Event::Resumed { step } => self.line(&format!("resumed after step {step}")),
        }
    }

    fn message(&mut self, msg: &str) {
        if self.json.is_some() {
            let line = serde_json::json!({"event": "message", "text": msg});
            return outln!("{line}");
        }
        if let Some(b) = self.bar.take() {
            b.finish();
        }
        if !self.quiet {
            errln!("{msg}");
        }
    }
}
