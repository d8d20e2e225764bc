//! The training controller: a pure state machine that turns step events (phase, loss)
//! into decisions (set k, save or restore the checkpoint of a k, enter fine-tuning,
//! stop). It owns no model, so every path is unit-tested on synthetic loss traces
//! (`tests.rs`); the trainer applies its decisions between steps.
//!
//! Fixed-rank and non-SVD models get the fixed schedule: `max_steps` training steps,
//! then `fine_tune_steps` of fine-tuning if the model has a basis. An annealed rank
//! (`svd_truncate(k = 2, anneal = 500)`) starts that schedule at min(batch, L) and
//! lowers it geometrically, k_max · (k / k_max)^(t / anneal) rounded up, reaching k at step
//! `anneal`: equal steps per halving, so most of them go to the ranks near k, where
//! the adaptive search also spends its steps. Adaptive models
//! (`svd_truncate(k = adaptive)`) run one of three searches for k*:
//!
//! - `decreasing` (Algorithm 1 of the paper): train at k = min(batch, L) until the
//!   loss stagnates and keep that loss as the target; then k ← k − 1 each time a step
//!   reaches the target again; when training at some k stagnates above the target for
//!   `patience` steps, restore the checkpoint saved at k + 1 and settle there.
//! - `bisect`: the same target, but k is bisected between 1 (or the smallest k that
//!   failed, plus one) and the smallest k that reached it, restoring the best
//!   checkpoint after each failure: O(log k) ranks are visited instead of k.
//! - `trend`: Algorithm 1, except that a rank which has trained `2 · patience` steps
//!   and is still over twice the target is also given up as soon as its loss, at the
//!   rate it fell over the last three windows, would need more than `horizon` further
//!   steps (default `5 · patience`; `trend.rs`). The ranks visited and the test that keeps
//!   them are Algorithm 1's, so up to that give-up the run is Algorithm 1's step for
//!   step; what it saves is the slow give-up of a rank that keeps improving a little.
//! - `library`: the authors' library's own rule (`library.rs`): Algorithm 1's path with
//!   their tests, built on a 20-step running mean kept across ranks, and no checkpoint
//!   restored after the give-up (one rank up, training on).
//! - `parsimonious`: k grows from 1; each k trains until the loss stagnates; when a
//!   mode improves the stagnated loss by less than `tolerance`, the checkpoint of
//!   k − 1 is restored and training stops there.
//!
//! "Settling" trains at k* until the loss stagnates (the authors' library does the
//! same after its search), then the RRAE path goes on: common basis, fine-tuning.
//! `max_steps` bounds the whole training phase; when it runs out mid-search the best
//! k so far (the last one that reached the target) is restored. `search_steps()` says
//! where a search's training steps went (`spent.rs`).

mod library;
mod spent;
mod trend;
mod window;

#[cfg(test)]
mod tests;

pub use library::Running;
use serde::{Deserialize, Serialize};
pub use spent::SearchSteps;
use spent::Segment;
pub use trend::Trend;
pub use window::{Means, Window};

/// The two phases of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// The search a controller runs (the language's; checkpoints record it by name).
pub use rrae_lang::ir::Search;

/// The documented knobs (`svd_truncate(k = adaptive, patience = …, …)`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Steps per window of the stagnation test (default 100).
    pub window: usize,
    /// Relative improvement between windows below which training has stagnated (0.01).
    pub tolerance: f64,
    /// Stagnant steps above the target before a k is given up (500).
    pub patience: usize,
    /// The training phase's step budget (for a fixed schedule: its length).
    pub max_steps: usize,
    /// Fine-tuning steps after the training phase; 0 for none.
    pub fine_tune_steps: usize,
    /// A fixed rank's annealing: training steps over which the kept rank falls from
    /// min(batch, L) to k (0: k from the first step). Capped at `max_steps`.
    #[serde(default)]
    pub anneal: usize,
    /// The `trend` search: the most further steps a rank's loss may need, at its recent
    /// rate, to reach the target before the rank is given up (0: no trend test).
    #[serde(default)]
    pub horizon: usize,
    /// The `library` search: a target given outright (the library's `perf_loss`); the
    /// warm-up ends at the first step whose loss is below it.
    #[serde(default)]
    pub target: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A fixed schedule: `max_steps` steps at a fixed rank.
    Fixed,
    /// Training at the first k until the loss stagnates; that loss becomes the target.
    Warmup,
    /// Training at a lowered k until a step reaches the target or training stagnates above it.
    Probe,
    /// Parsimonious: training at k until the loss stagnates.
    Grow,
    /// k* is found; training until the loss stagnates.
    Settle,
    FineTune,
    Done,
}

/// What the trainer must do after a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Train at rank `k` from the next step on.
    SetK {
        #[serde(rename = "rank")]
        k: usize,
    },
    /// Keep the model and optimiser state as the checkpoint of rank `k`.
    Save {
        #[serde(rename = "rank")]
        k: usize,
    },
    /// Go back to the checkpoint saved for rank `k` and train at `k`.
    Restore {
        #[serde(rename = "rank")]
        k: usize,
    },
    /// End the training phase at rank `k`: common basis, then fine-tuning.
    FineTune {
        #[serde(rename = "rank")]
        k: usize,
    },
    /// End the run.
    Stop,
}

/// One decision with its context, as written to `decisions.jsonl`:
/// `{"step":812,"phase":"train","k":3,"loss":…,"target":…,"action":"set_k","rank":2,"reason":"…"}`
/// (`k` is the rank in force, `rank` the one the action names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Steps completed when it was taken (training and fine-tuning together).
    pub step: usize,
    pub phase: Phase,
    /// The rank in force when it was taken.
    pub k: usize,
    pub loss: Option<f64>,
    pub target: Option<f64>,
    #[serde(flatten)]
    pub action: Action,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Controller {
    opts: Options,
    algorithm: Option<Search>,
    stage: Stage,
    k: usize,
    k_max: usize,
    target: Option<f64>,
    window: Window,
    /// Stagnant steps at the current k (reset when k changes).
    stagnant: usize,
    /// The `trend` search's block means at the current k (reset when k changes).
    #[serde(default)]
    trend: Trend,
    /// The rank whose checkpoint is kept.
    saved: Option<usize>,
    /// An annealed fixed schedule's final rank (0: not annealed).
    #[serde(default)]
    goal: usize,
    /// Bisection bracket: every k < lo failed; hi reached the target.
    lo: usize,
    hi: usize,
    /// Parsimonious: the stagnated loss of the previous rank.
    mode_loss: Option<f64>,
    train_steps: usize,
    fine_steps: usize,
    /// The last step's loss, for the decisions' context.
    last_loss: Option<f64>,
    /// Where a search's training steps went; `mark` is where the open segment began.
    #[serde(default)]
    spent: SearchSteps,
    #[serde(default)]
    mark: usize,
    /// The `library` search's running mean (kept across ranks, as the library keeps it).
    #[serde(default)]
    running: Running,
    /// A descended fixed rank (`svd_truncate(k = 2, descend = true)`): the rank Algorithm
    /// 1's descent stops at and trains at to the end (0: a search, which finds its own).
    #[serde(default)]
    floor: usize,
}

impl Controller {
    /// A fixed schedule at rank `k` (the model's; any value for models without one).
    pub fn fixed(k: usize, opts: Options) -> Controller {
        Controller::with(None, Stage::Fixed, k, k, opts)
    }

    /// A fixed rank `k` reached by annealing from `k_max` = min(batch, L) over
    /// `opts.anneal` steps (capped at `max_steps`); `fixed(k)` when there is nothing to anneal.
    pub fn annealed(k: usize, k_max: usize, opts: Options) -> Controller {
        let k = k.max(1);
        if opts.anneal == 0 || k_max <= k {
            return Controller::fixed(k, opts);
        }
        let mut c = Controller::with(None, Stage::Fixed, k_max, k_max, opts);
        c.goal = k;
        c
    }

    /// The annealed rank after `t` training steps.
    fn annealed_rank(&self, t: usize) -> usize {
        let n = self.opts.anneal.min(self.opts.max_steps).max(1);
        if t >= n {
            return self.goal;
        }
        let (hi, lo) = (self.k_max as f64, self.goal as f64);
        // Rounded up (less a rounding guard), so k itself is first kept at step `anneal`.
        let k = (hi * (lo / hi).powf(t as f64 / n as f64) - 1e-9).ceil() as usize;
        k.clamp(self.goal, self.k_max)
    }

    /// A fixed rank `k` reached by Algorithm 1's descent from `k_max` = min(batch, L):
    /// the warm-up sets the target, each rank that reaches it gives way to the next, a
    /// rank that stagnates above it for `patience` steps gives way too (the rank is
    /// fixed: there is nothing to go back to), and at `k` training goes on to the end of
    /// `max_steps`. `fixed(k)` when there is nothing to descend.
    pub fn descending(k: usize, k_max: usize, opts: Options) -> Controller {
        let k = k.max(1);
        if k_max <= k {
            return Controller::fixed(k, opts);
        }
        let mut c = Controller::with(Some(Search::Decreasing), Stage::Warmup, k_max, k_max, opts);
        c.floor = k;
        c
    }

    /// An adaptive search over 1..=k_max (k_max = min(batch, L)).
    pub fn adaptive(algorithm: Search, k_max: usize, opts: Options) -> Controller {
        let k_max = k_max.max(1);
        let (stage, k) = match algorithm {
            Search::Parsimonious => (Stage::Grow, 1),
            Search::Decreasing | Search::Bisect | Search::Trend | Search::Library => {
                (Stage::Warmup, k_max)
            }
        };
        Controller::with(Some(algorithm), stage, k, k_max, opts)
    }

    fn with(a: Option<Search>, stage: Stage, k: usize, k_max: usize, o: Options) -> Self {
        Controller {
            opts: o,
            algorithm: a,
            stage,
            k,
            k_max,
            target: None,
            window: Window::new(o.window),
            stagnant: 0,
            trend: Trend::new(o.window),
            saved: None,
            goal: 0,
            lo: 1,
            hi: k_max,
            mode_loss: None,
            train_steps: 0,
            fine_steps: 0,
            last_loss: None,
            spent: SearchSteps::default(),
            mark: 0,
            running: Running::new(o.window),
            floor: 0,
        }
    }

    /// A resumed run's new lengths (`rrae run --resume` with other `--steps` or
    /// `--fine-tune-steps`): the training budget and the fine-tuning steps, or why they
    /// cannot apply (shorter than what is done, or a phase that has ended).
    pub fn set_lengths(&mut self, max_steps: usize, fine_tune_steps: usize) -> Result<(), String> {
        if max_steps != self.opts.max_steps {
            if self.phase() != Phase::Train {
                return Err(format!(
                    "its training phase ended after {} steps; only the fine-tuning steps can change now",
                    self.train_steps
                ));
            }
            if max_steps <= self.train_steps {
                return Err(format!(
                    "it has trained {} steps; the training steps must be more than that",
                    self.train_steps
                ));
            }
        }
        if fine_tune_steps != self.opts.fine_tune_steps && fine_tune_steps < self.fine_steps {
            return Err(format!(
                "it has fine-tuned {} steps; the fine-tuning steps must be at least that",
                self.fine_steps
            ));
        }
        self.opts.max_steps = max_steps;
        self.opts.fine_tune_steps = fine_tune_steps;
        Ok(())
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }
    /// The rank in force.
    pub fn k(&self) -> usize {
        self.k
    }
    pub fn stage(&self) -> Stage {
        self.stage
    }
    pub fn target(&self) -> Option<f64> {
        self.target
    }
    pub fn phase(&self) -> Phase {
        match self.stage {
            Stage::FineTune | Stage::Done => Phase::FineTune,
            _ => Phase::Train,
        }
    }
    /// Steps completed in (training, fine-tuning).
    pub fn steps(&self) -> (usize, usize) {
        (self.train_steps, self.fine_steps)
    }
    /// Steps completed, training and fine-tuning together.
    pub fn steps_done(&self) -> usize {
        self.train_steps + self.fine_steps
    }
    pub fn done(&self) -> bool {
        self.stage == Stage::Done
    }
    /// Where an adaptive search's training steps went (complete once it has ended);
    /// `None` for a fixed schedule.
    pub fn search_steps(&self) -> Option<&SearchSteps> {
        // A descended fixed rank searches for nothing.
        self.algorithm
            .filter(|_| self.floor == 0)
            .map(|_| &self.spent)
    }
    /// The rank the search ended at, once it has.
    pub fn k_star(&self) -> Option<usize> {
        matches!(self.stage, Stage::FineTune | Stage::Done).then_some(self.k)
    }

    /// Decisions before the first step: the starting rank, or the end of an empty run.
    pub fn begin(&mut self) -> Vec<Decision> {
        let mut out = vec![];
        if let Some(a) = self.algorithm {
            let why = match a {
                Search::Parsimonious => "the parsimonious search starts at k = 1".to_string(),
                Search::Decreasing if self.floor > 0 => format!(
                    "descending to k = {} from k = min(batch, L) = {}",
                    self.floor, self.k
                ),
                Search::Decreasing | Search::Bisect | Search::Trend | Search::Library => {
                    format!("the search starts at k = min(batch, L) = {}", self.k)
                }
            };
            self.push(&mut out, Action::SetK { k: self.k }, why);
        }
        if self.goal > 0 {
            // With no training steps the rank is k at once (the model then ends at k).
            if self.opts.max_steps == 0 {
                self.k = self.goal;
            } else {
                let why = self.anneal_reason();
                self.push(&mut out, Action::SetK { k: self.k }, why);
            }
        }
        if self.opts.max_steps == 0 {
            self.finish(&mut out, "no training steps".into());
        }
        out
    }

    /// Takes the loss of the step just finished; returns what to do before the next.
    pub fn observe(&mut self, loss: f64) -> Vec<Decision> {
        let mut out = vec![];
        self.last_loss = Some(loss);
        match self.stage {
            Stage::Done => {}
            Stage::FineTune => {
                self.fine_steps += 1;
                if self.fine_steps >= self.opts.fine_tune_steps {
                    self.stage = Stage::Done;
                    self.push(&mut out, Action::Stop, "fine-tuning is done".into());
                }
            }
            _ => {
                self.train_steps += 1;
                self.window.push(loss);
                let near = self.library().then(|| self.running.push(loss)).flatten();
                match self.stage {
                    Stage::Warmup if self.library() => self.library_warmup(near, &mut out),
                    Stage::Warmup => self.warmup(&mut out),
                    Stage::Probe => self.probe(loss, near, &mut out),
                    Stage::Grow => self.grow(&mut out),
                    Stage::Fixed if self.goal > 0 => {
                        let k = self.annealed_rank(self.train_steps);
                        if k != self.k {
                            let why = self.anneal_reason();
                            self.push(&mut out, Action::SetK { k }, why);
                            self.k = k;
                        }
                    }
                    // A descended rank trains at k to the end of the steps.
                    Stage::Settle if self.floor > 0 => {}
                    Stage::Settle if self.library() => self.library_settle(near, &mut out),
                    Stage::Settle => {
                        if let Some(m) = self.window.stagnated(self.opts.tolerance) {
                            let why = format!("k* = {}: {}", self.k, self.stagnation(&m));
                            self.finish(&mut out, why);
                        }
                    }
                    _ => {}
                }
                let training = !matches!(self.stage, Stage::FineTune | Stage::Done);
                if training && self.train_steps >= self.opts.max_steps {
                    self.budget_spent(&mut out);
                }
            }
        }
        out
    }

    fn push(&self, out: &mut Vec<Decision>, action: Action, reason: String) {
        out.push(Decision {
            step: self.steps_done(),
            phase: self.phase(),
            k: self.k,
            loss: self.last_loss,
            target: self.target,
            action,
            reason,
        });
    }

    fn anneal_reason(&self) -> String {
        format!(
            "annealing the rank from {} to {} over {} steps",
            self.k_max,
            self.goal,
            self.opts.anneal.min(self.opts.max_steps)
        )
    }

    fn stagnation(&self, m: &Means) -> String {
        format!(
            "the loss stagnated (mean of the last {w} steps {:.6} vs {:.6} before: improvement {:.2} % < {:.2} %)",
            m.last,
            m.previous,
            100.0 * m.improvement(),
            100.0 * self.opts.tolerance,
            w = self.opts.window
        )
    }

    /// Starts training at `k` (a probe, or the next rank of the parsimonious search).
    fn set_k(&mut self, out: &mut Vec<Decision>, k: usize, stage: Stage, why: String) {
        self.push(out, Action::SetK { k }, why);
        self.k = k;
        self.stage = stage;
        self.window.clear();
        self.trend.clear();
        self.stagnant = 0;
    }

    /// Counts the training since the last decision that ended a segment.
    fn close(&mut self, segment: Segment) {
        self.spent.add(segment, self.train_steps - self.mark);
        self.mark = self.train_steps;
    }

    fn save(&mut self, out: &mut Vec<Decision>, why: String) {
        self.close(match self.stage {
            Stage::Warmup => Segment::Warmup,
            _ => Segment::Kept,
        });
        self.push(out, Action::Save { k: self.k }, why);
        self.saved = Some(self.k);
    }

    fn restore(&mut self, out: &mut Vec<Decision>, k: usize, why: String) {
        self.close(Segment::GivenUp(self.k));
        self.push(out, Action::Restore { k }, why);
        self.k = k;
        self.window.clear();
        self.trend.clear();
        self.stagnant = 0;
    }

    fn settle(&mut self) {
        self.stage = Stage::Settle;
        self.window.clear();
        self.stagnant = 0;
    }

    fn finish(&mut self, out: &mut Vec<Decision>, why: String) {
        // What is left open: settling, a warm-up the budget cut short, or the rank a
        // parsimonious search was growing when the budget ran out (it ends there). A
        // probe is never open here: `budget_spent` restored it, which counted it.
        match self.stage {
            Stage::Settle => self.close(Segment::Settle),
            Stage::Warmup => self.close(Segment::Warmup),
            Stage::Grow => self.close(Segment::Kept),
            Stage::Probe | Stage::Fixed | Stage::FineTune | Stage::Done => {}
        }
        if self.opts.fine_tune_steps > 0 {
            self.push(out, Action::FineTune { k: self.k }, why);
            self.stage = Stage::FineTune;
        } else {
            self.push(out, Action::Stop, why);
            self.stage = Stage::Done;
        }
    }

    fn warmup(&mut self, out: &mut Vec<Decision>) {
        let Some(m) = self.window.stagnated(self.opts.tolerance) else {
            return;
        };
        self.target = Some(m.last);
        let why = format!("{}; its mean is the target", self.stagnation(&m));
        self.descend_from_target(out, why);
    }

    /// The next rank to try below the best one (`hi`), or the end of the search.
    fn next_probe(&mut self, out: &mut Vec<Decision>) {
        let best = self.hi;
        if self.floor > 0 && best <= self.floor {
            // A descended rank: k is reached; train there to the end.
            self.settle();
            return;
        }
        let next = match self.algorithm {
            Some(Search::Bisect) => (self.lo < best).then(|| (self.lo + best) / 2),
            Some(Search::Decreasing | Search::Trend | Search::Library) => {
                (best > 1).then(|| best - 1)
            }
            // The parsimonious search grows k instead; a fixed rank probes nothing.
            Some(Search::Parsimonious) | None => None,
        };
        match next {
            Some(k) => {
                let why = match self.algorithm {
                    Some(Search::Bisect) if self.lo > 1 => format!(
                        "bisecting [{}, {best}]: ranks below {} failed, {best} reached the target",
                        self.lo, self.lo
                    ),
                    Some(Search::Bisect) => format!(
                        "bisecting [1, {best}]: {best} reached the target, no rank has failed yet"
                    ),
                    Some(
                        Search::Decreasing | Search::Trend | Search::Library | Search::Parsimonious,
                    )
                    | None => {
                        format!("k = {best} reached the target; trying one rank less")
                    }
                };
                self.set_k(out, k, Stage::Probe, why);
            }
            None => {
                // Only reached after a success at k = best (= 1, or the bracket closed on it).
                self.settle();
            }
        }
    }

    fn probe(&mut self, loss: f64, near: Option<(f64, f64)>, out: &mut Vec<Decision>) {
        let target = self.target.unwrap_or(f64::NEG_INFINITY);
        let reached = if self.library() {
            loss < target
        } else {
            loss <= target
        };
        if reached {
            self.save(
                out,
                format!("the loss {loss:.6} reached the target {target:.6}"),
            );
            self.hi = self.k;
            self.next_probe(out);
            return;
        }
        if let Some(why) = self.off_course(loss, target) {
            self.give_up(out, why);
            return;
        }
        let stagnant = if self.library() {
            near.is_some_and(|(_, d)| d < self.opts.tolerance)
        } else {
            self.window.stagnated(self.opts.tolerance).is_some()
        };
        if !stagnant {
            return;
        }
        self.stagnant += 1;
        if self.stagnant < self.opts.patience {
            return;
        }
        if self.floor > 0 {
            self.descend_anyway(out);
            return;
        }
        let why = if self.library() {
            format!(
                "k = {} had {} steps within {:.2} % of the running mean of {} losses, above the \
                 target; the library's rule: on at k = {} from this model",
                self.k,
                self.opts.patience,
                100.0 * self.opts.tolerance,
                self.opts.window,
                self.hi
            )
        } else {
            format!(
                "k = {} stagnated above the target for {} steps; back to k = {}",
                self.k, self.opts.patience, self.hi
            )
        };
        self.give_up(out, why);
    }

    /// A descended rank's probe stagnated above the target: the rank is fixed, so the
    /// descent goes on (or, at k, training does).
    fn descend_anyway(&mut self, out: &mut Vec<Decision>) {
        let why = format!(
            "k = {} stagnated above the target for {} steps; the rank is fixed at {}",
            self.k, self.opts.patience, self.floor
        );
        self.close(Segment::Kept);
        self.hi = self.k;
        if self.k > self.floor {
            let k = self.k - 1;
            self.set_k(out, k, Stage::Probe, format!("{why}: one rank less"));
        } else {
            self.push(
                out,
                Action::Save { k: self.k },
                format!("{why}: training on at it"),
            );
            self.saved = Some(self.k);
            self.settle();
        }
    }

    fn library(&self) -> bool {
        self.algorithm == Some(Search::Library)
    }

    /// The library's warm-up: the target is the running mean once `INIT_PATIENCE` steps
    /// were within `INIT_TOLERANCE` of it.
    fn library_warmup(&mut self, near: Option<(f64, f64)>, out: &mut Vec<Decision>) {
        if let Some(given) = self.opts.target {
            // `perf_loss` without `patience_init`: only a step below it ends the warm-up.
            let loss = self.last_loss.unwrap_or(f64::INFINITY);
            if loss < given {
                self.target = Some(given);
                let why = format!("the loss {loss:.6} is below the given target {given:.6}");
                self.descend_from_target(out, why);
            }
            return;
        }
        let Some((mean, d)) = near else { return };
        if d >= library::INIT_TOLERANCE {
            return;
        }
        self.stagnant += 1;
        if self.stagnant < library::INIT_PATIENCE {
            return;
        }
        self.stagnant = 0;
        self.target = Some(mean);
        let why = format!(
            "{} steps were within {:.0} % of the running mean of {} losses; that mean, {mean:.6}, \
             is the target",
            library::INIT_PATIENCE,
            100.0 * library::INIT_TOLERANCE,
            self.opts.window
        );
        self.descend_from_target(out, why);
    }

    /// The warm-up has its target: keep this rank and start down from it.
    fn descend_from_target(&mut self, out: &mut Vec<Decision>, why: String) {
        self.save(out, why);
        self.hi = self.k;
        if self.k == 1 {
            self.finish(out, "k* = 1: there is no smaller rank".into());
        } else {
            self.next_probe(out);
        }
    }

    /// The library's settling: `patience` steps within `INIT_TOLERANCE` of the running mean.
    fn library_settle(&mut self, near: Option<(f64, f64)>, out: &mut Vec<Decision>) {
        if !near.is_some_and(|(_, d)| d < library::INIT_TOLERANCE) {
            return;
        }
        self.stagnant += 1;
        if self.stagnant >= self.opts.patience {
            let why = format!(
                "k* = {}: {} steps within {:.0} % of the running mean",
                self.k,
                self.opts.patience,
                100.0 * library::INIT_TOLERANCE
            );
            self.finish(out, why);
        }
    }

    /// The trend test (`trend` search only): why the rank in force is off course, once
    /// it has trained `2 · patience` steps and is over `FAR` times the target, checked
    /// at the end of each window.
    fn off_course(&mut self, loss: f64, target: f64) -> Option<String> {
        if self.algorithm != Some(Search::Trend) || self.opts.horizon == 0 {
            return None;
        }
        if !self.trend.push(loss) || self.trend.steps() < self.opts.patience.saturating_mul(2) {
            return None;
        }
        let needed = self.trend.steps_needed(target)?;
        let (p, l) = self.trend.ends()?;
        if needed <= self.opts.horizon as f64 || l <= trend::FAR * target {
            return None;
        }
        let w = self.opts.window;
        let pace = if needed.is_finite() {
            format!("would need ~{needed:.0} more steps")
        } else {
            "would never get there".to_string()
        };
        Some(format!(
            "k = {} has trained {} steps above the target; at the rate of its last {} steps \
             (window means {p:.6} → {l:.6}) it {pace} (horizon {}); back to k = {}",
            self.k,
            self.trend.steps(),
            trend::SPAN * w,
            self.opts.horizon,
            self.hi
        ))
    }

    /// Gives the rank in force up: back to the best rank, then the search goes on
    /// (bisection) or settles there.
    fn give_up(&mut self, out: &mut Vec<Decision>, why: String) {
        let failed = self.k;
        self.lo = failed + 1;
        let best = self.hi;
        if self.library() {
            // The library trains on from the model as it is, one rank up.
            self.close(Segment::GivenUp(failed));
            self.push(out, Action::SetK { k: best }, why);
            self.k = best;
            self.window.clear();
            self.stagnant = 0;
            self.settle();
            return;
        }
        self.restore(out, best, why);
        match self.algorithm {
            Some(Search::Bisect) if self.lo < best => self.next_probe(out),
            Some(
                Search::Bisect
                | Search::Decreasing
                | Search::Trend
                | Search::Library
                | Search::Parsimonious,
            )
            | None => self.settle(),
        }
    }

    fn grow(&mut self, out: &mut Vec<Decision>) {
        let Some(m) = self.window.stagnated(self.opts.tolerance) else {
            return;
        };
        if let Some(prev) = self.mode_loss {
            let gain = (prev - m.last) / prev.abs().max(f64::MIN_POSITIVE);
            if gain < self.opts.tolerance && self.k > 1 {
                let best = self.k - 1;
                let why = format!(
                    "mode {} improved the stagnated loss by {:.2} % (< {:.2} %): k* = {best}",
                    self.k,
                    100.0 * gain,
                    100.0 * self.opts.tolerance
                );
                self.restore(out, best, why);
                // That checkpoint was saved when its loss had stagnated: nothing to settle.
                self.finish(out, format!("k* = {best}"));
                return;
            }
        }
        self.mode_loss = Some(m.last);
        self.save(out, self.stagnation(&m));
        if self.k >= self.k_max {
            self.finish(out, format!("k* = {}: k reached min(batch, L)", self.k));
        } else {
            let k = self.k + 1;
            self.set_k(out, k, Stage::Grow, "trying one more mode".into());
        }
    }

    /// `max_steps` ran out before the search ended: keep the best rank so far.
    fn budget_spent(&mut self, out: &mut Vec<Decision>) {
        let why = format!("the step budget ({} steps) is spent", self.opts.max_steps);
        if self.floor > 0 && self.k != self.floor {
            // A descended rank ends at k whatever the descent reached.
            let k = self.floor;
            self.close(Segment::Kept);
            self.push(
                out,
                Action::SetK { k },
                format!("{why} before the descent reached k = {k}: the rank is fixed, k = {k}"),
            );
            self.k = k;
        } else if self.stage == Stage::Probe && self.floor == 0 {
            if let Some(best) = self.saved.filter(|&s| s != self.k) {
                self.restore(
                    out,
                    best,
                    format!("{why} before k = {} reached the target", self.k),
                );
            }
        }
        let why = match self.stage {
            Stage::Fixed => "the training steps are done".to_string(),
            // A descended rank ends where it is fixed, whatever its stage.
            Stage::Warmup
            | Stage::Probe
            | Stage::Grow
            | Stage::Settle
            | Stage::FineTune
            | Stage::Done
                if self.floor > 0 =>
            {
                format!("the training steps are done at k = {}", self.k)
            }
            Stage::Warmup => format!("{why} before the loss stagnated: k* = {}", self.k),
            _ => format!("{why}: k* = {}", self.k),
        };
        self.finish(out, why);
    }
}
