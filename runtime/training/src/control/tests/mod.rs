//! The controller on synthetic loss traces, no model: every decision path of the
//! fixed schedule and of the searches (the trend search's own in `trend.rs`).

use super::*;
use std::collections::HashMap;

mod descend;
mod library;
mod trend;

/// A synthetic training run: at rank k the loss decays geometrically towards
/// `floor(k)`, which is flat for k ≥ the true rank and much higher below it. Setting
/// a lower k costs `jump` (relative); checkpoints store the loss level.
struct Sim {
    rank: usize,
    level: f64,
    k: usize,
    rate: f64,
    jump: f64,
    /// Ranks below the true one: (jump, rate) in place of `jump` and `rate`, for a
    /// failing rank that improves slowly for a long time.
    below: Option<(f64, f64)>,
    noise: f64,
    seed: u64,
    saved: HashMap<usize, f64>,
    steps: usize,
}

impl Sim {
    fn new(rank: usize) -> Sim {
        Sim {
            rank,
            level: 100.0,
            k: 0,
            rate: 0.98,
            jump: 0.0,
            below: None,
            noise: 0.0,
            seed: 1,
            saved: HashMap::new(),
            steps: 0,
        }
    }
    fn floor(&self) -> f64 {
        1.0 + 5.0 * self.rank.saturating_sub(self.k) as f64
    }
    fn step(&mut self) -> f64 {
        self.steps += 1;
        let f = self.floor();
        let rate = match self.below {
            Some((_, rate)) if self.k < self.rank => rate,
            _ => self.rate,
        };
        self.level = f + (self.level - f) * rate;
        // A small deterministic LCG for ± noise.
        self.seed = self.seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let u = (self.seed >> 11) as f64 / (1u64 << 53) as f64;
        self.level * (1.0 + self.noise * (2.0 * u - 1.0))
    }
    fn apply(&mut self, d: &Decision) {
        match d.action {
            Action::SetK { k } => {
                if k < self.k {
                    let jump = match self.below {
                        Some((jump, _)) if k < self.rank => jump,
                        _ => self.jump,
                    };
                    self.level *= 1.0 + jump;
                }
                self.k = k;
            }
            Action::Save { k } => {
                assert_eq!(k, self.k, "a save names the rank in force");
                self.saved.insert(k, self.level);
            }
            Action::Restore { k } => {
                self.level = self.saved[&k];
                self.k = k;
            }
            Action::FineTune { .. } | Action::Stop => {}
        }
    }
}

fn opts(max_steps: usize, fine_tune_steps: usize) -> Options {
    Options {
        window: 10,
        tolerance: 0.01,
        patience: 30,
        max_steps,
        fine_tune_steps,
        anneal: 0,
        horizon: 0,
        target: None,
    }
}

/// Runs the controller on the simulation to the end; returns every decision.
fn run(c: &mut Controller, sim: &mut Sim) -> Vec<Decision> {
    let mut log = c.begin();
    for d in &log {
        sim.apply(d);
    }
    if sim.k == 0 {
        sim.k = c.k();
    }
    for _ in 0..1_000_000 {
        if c.done() {
            break;
        }
        let loss = sim.step();
        let ds = c.observe(loss);
        for d in &ds {
            sim.apply(d);
        }
        log.extend(ds);
    }
    assert!(c.done(), "the run ended");
    // Every search accounts for each of its training steps exactly once.
    if let Some(spent) = c.search_steps() {
        assert_eq!(spent.total(), c.steps().0, "{spent}");
    }
    log
}

fn actions(log: &[Decision]) -> Vec<Action> {
    log.iter().map(|d| d.action.clone()).collect()
}

fn step_of(log: &[Decision], a: &Action) -> usize {
    log.iter().find(|d| &d.action == a).map(|d| d.step).unwrap()
}

#[test]
fn fixed_schedule_trains_then_fine_tunes_then_stops() {
    let mut c = Controller::fixed(2, opts(5, 3));
    let log = run(&mut c, &mut Sim::new(2));
    assert_eq!(actions(&log), vec![Action::FineTune { k: 2 }, Action::Stop]);
    assert_eq!((log[0].step, log[0].phase), (5, Phase::Train));
    assert_eq!((log[1].step, log[1].phase), (8, Phase::FineTune));
    assert_eq!(c.steps(), (5, 3));
}

#[test]
fn fixed_schedule_without_fine_tuning_stops_after_training() {
    let mut c = Controller::fixed(64, opts(4, 0));
    let log = run(&mut c, &mut Sim::new(2));
    assert_eq!(actions(&log), vec![Action::Stop]);
    assert_eq!(log[0].step, 4);
}

#[test]
fn no_training_steps_ends_before_the_first_step() {
    let mut c = Controller::fixed(2, opts(0, 0));
    assert_eq!(actions(&c.begin()), vec![Action::Stop]);
    assert!(c.done());
    let mut c = Controller::adaptive(Search::Decreasing, 8, opts(0, 5));
    assert_eq!(
        actions(&c.begin()),
        vec![Action::SetK { k: 8 }, Action::FineTune { k: 8 }]
    );
}

/// Algorithm 1's decisions from k = 6 when the true rank is 3: down to 3, k = 2 given
/// up, back to 3, fine-tuning.
fn down_from_6_to_3() -> Vec<Action> {
    use Action::*;
    vec![
        SetK { k: 6 },
        Save { k: 6 },
        SetK { k: 5 },
        Save { k: 5 },
        SetK { k: 4 },
        Save { k: 4 },
        SetK { k: 3 },
        Save { k: 3 },
        SetK { k: 2 },
        Restore { k: 3 },
        FineTune { k: 3 },
        Stop,
    ]
}

#[test]
fn decreasing_lowers_k_until_it_fails_then_restores_k_plus_one() {
    let mut c = Controller::adaptive(Search::Decreasing, 6, opts(100_000, 5));
    let log = run(&mut c, &mut Sim::new(3));
    use Action::*;
    assert_eq!(actions(&log), down_from_6_to_3());
    // The target is the stagnated mean at k = 6; later decisions carry it.
    let target = log[1].target.unwrap();
    assert!(log[1..].iter().all(|d| d.target == Some(target)));
    assert!(log[1].reason.contains("stagnated"), "{}", log[1].reason);
    assert!(log[9].reason.contains("stagnated above the target"));
    // k = 2 was given up after two full windows plus `patience` stagnant steps.
    let set2 = step_of(&log, &SetK { k: 2 });
    let back = step_of(&log, &Restore { k: 3 });
    assert_eq!(back - set2, 2 * 10 + 30 - 1);
    assert_eq!(c.k_star(), Some(3));
    // Where the steps went: the warm-up up to the target, ranks 5 … 3 reaching it,
    // k = 2's probe, then settling at 3 until the fine-tuning decision.
    let spent = c.search_steps().unwrap();
    let fine = step_of(&log, &FineTune { k: 3 });
    assert_eq!(spent.warmup, log[1].step);
    assert_eq!(spent.kept, set2 - log[1].step);
    assert_eq!(
        (spent.given_up, spent.given_up_ranks.clone()),
        (back - set2, vec![2])
    );
    assert_eq!(spent.settle, fine - back);
}

#[test]
fn decreasing_can_end_at_rank_one() {
    let mut c = Controller::adaptive(Search::Decreasing, 3, opts(100_000, 0));
    let log = run(&mut c, &mut Sim::new(1));
    use Action::*;
    assert_eq!(
        actions(&log),
        vec![
            SetK { k: 3 },
            Save { k: 3 },
            SetK { k: 2 },
            Save { k: 2 },
            SetK { k: 1 },
            Save { k: 1 },
            Stop
        ]
    );
    // After k = 1 reached the target, training settled until it stagnated.
    assert!(log[6].reason.starts_with("k* = 1"));
    assert!(log[6].step - log[5].step >= 2 * 10);
}

#[test]
fn a_search_starting_at_rank_one_ends_after_the_warmup() {
    let mut c = Controller::adaptive(Search::Decreasing, 1, opts(100_000, 2));
    let log = run(&mut c, &mut Sim::new(1));
    use Action::*;
    assert_eq!(
        actions(&log),
        vec![SetK { k: 1 }, Save { k: 1 }, FineTune { k: 1 }, Stop]
    );
}

#[test]
fn stagnation_counts_only_at_the_current_k() {
    // A failing rank with noisy losses still fails, and the count restarts per k:
    // with patience larger than the time any succeeding rank needs, only k = 2 fails.
    let mut sim = Sim::new(3);
    sim.noise = 0.002;
    let mut c = Controller::adaptive(Search::Decreasing, 5, opts(100_000, 0));
    let log = run(&mut c, &mut sim);
    assert_eq!(c.k_star(), Some(3));
    let restores: Vec<_> = log
        .iter()
        .filter(|d| matches!(d.action, Action::Restore { .. }))
        .collect();
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0].k, 2);
}

#[test]
fn bisect_finds_the_same_rank_in_fewer_steps() {
    let sim = || {
        let mut s = Sim::new(3);
        s.jump = 0.5; // every lower rank first has to win the loss back
        s
    };
    let mut dec = Controller::adaptive(Search::Decreasing, 16, opts(100_000, 0));
    let mut s1 = sim();
    run(&mut dec, &mut s1);
    let mut bis = Controller::adaptive(Search::Bisect, 16, opts(100_000, 0));
    let mut s2 = sim();
    let log = run(&mut bis, &mut s2);
    use Action::*;
    assert_eq!(
        actions(&log),
        vec![
            SetK { k: 16 },
            Save { k: 16 },
            SetK { k: 8 },
            Save { k: 8 },
            SetK { k: 4 },
            Save { k: 4 },
            SetK { k: 2 },
            Restore { k: 4 },
            SetK { k: 3 },
            Save { k: 3 },
            Stop
        ]
    );
    assert_eq!(dec.k_star(), Some(3));
    assert_eq!(bis.k_star(), Some(3));
    // Both give up one rank, 2, but bisection walks past fewer ranks to get there.
    let (d, b) = (dec.search_steps().unwrap(), bis.search_steps().unwrap());
    assert_eq!((&d.given_up_ranks, &b.given_up_ranks), (&vec![2], &vec![2]));
    assert_eq!(d.warmup, b.warmup);
    assert!(b.kept < d.kept, "{b} against {d}");
    assert!(
        s2.steps < s1.steps,
        "bisect took {} steps, decreasing {}",
        s2.steps,
        s1.steps
    );
}

#[test]
fn bisect_closes_the_bracket_after_a_failure_next_to_the_best_rank() {
    let mut c = Controller::adaptive(Search::Bisect, 4, opts(100_000, 0));
    let log = run(&mut c, &mut Sim::new(3));
    use Action::*;
    // 4 → probe 2 fails → back to 4, probe 3 succeeds → bracket [3, 3].
    assert_eq!(
        actions(&log),
        vec![
            SetK { k: 4 },
            Save { k: 4 },
            SetK { k: 2 },
            Restore { k: 4 },
            SetK { k: 3 },
            Save { k: 3 },
            Stop
        ]
    );
    let mut c = Controller::adaptive(Search::Bisect, 4, opts(100_000, 0));
    let log = run(&mut c, &mut Sim::new(4));
    // 4 → 2 fails → back to 4 → 3 fails → back to 4, bracket [4, 4].
    assert_eq!(
        actions(&log),
        vec![
            SetK { k: 4 },
            Save { k: 4 },
            SetK { k: 2 },
            Restore { k: 4 },
            SetK { k: 3 },
            Restore { k: 4 },
            Stop
        ]
    );
    assert_eq!(c.k_star(), Some(4));
}

#[test]
fn parsimonious_grows_k_until_a_mode_stops_helping() {
    // Fast convergence, so a stagnated loss is the floor: mode 4 then adds nothing.
    let mut sim = Sim::new(3);
    sim.rate = 0.5;
    let mut c = Controller::adaptive(Search::Parsimonious, 8, opts(100_000, 4));
    let log = run(&mut c, &mut sim);
    use Action::*;
    assert_eq!(
        actions(&log),
        vec![
            SetK { k: 1 },
            Save { k: 1 },
            SetK { k: 2 },
            Save { k: 2 },
            SetK { k: 3 },
            Save { k: 3 },
            SetK { k: 4 },
            Restore { k: 3 },
            FineTune { k: 3 },
            Stop
        ]
    );
    assert!(
        log[7].reason.contains("mode 4 improved"),
        "{}",
        log[7].reason
    );
    // No warm-up and no settling: ranks 1 … 3 were kept, mode 4 given up.
    let spent = c.search_steps().unwrap();
    assert_eq!((spent.warmup, spent.settle), (0, 0));
    assert_eq!(spent.kept, log[5].step);
    assert_eq!(spent.given_up_ranks, vec![4]);
    assert_eq!(spent.given_up, log[7].step - log[5].step);
}

#[test]
fn parsimonious_stops_at_the_largest_rank() {
    let mut c = Controller::adaptive(Search::Parsimonious, 2, opts(100_000, 0));
    let log = run(&mut c, &mut Sim::new(5));
    use Action::*;
    assert_eq!(
        actions(&log),
        vec![
            SetK { k: 1 },
            Save { k: 1 },
            SetK { k: 2 },
            Save { k: 2 },
            Stop
        ]
    );
    assert!(log[4].reason.contains("min(batch, L)"));
}

#[test]
fn a_spent_budget_mid_probe_restores_the_best_rank() {
    // Enough steps to reach k = 2 (which fails) but not to give it up.
    let mut probe = Controller::adaptive(Search::Decreasing, 4, opts(100_000, 0));
    let full = run(&mut probe, &mut Sim::new(3));
    let set2 = step_of(&full, &Action::SetK { k: 2 });
    let mut c = Controller::adaptive(Search::Decreasing, 4, opts(set2 + 5, 3));
    let log = run(&mut c, &mut Sim::new(3));
    use Action::*;
    let tail = &actions(&log)[log.len() - 4..];
    assert_eq!(
        tail,
        &[SetK { k: 2 }, Restore { k: 3 }, FineTune { k: 3 }, Stop]
    );
    assert!(log[log.len() - 3].reason.contains("budget"));
    assert_eq!(log[log.len() - 2].step, set2 + 5);
    // The cut-short probe counts as given up; nothing was left to settle.
    let spent = c.search_steps().unwrap();
    assert_eq!((spent.given_up, spent.given_up_ranks.clone()), (5, vec![2]));
    assert_eq!(spent.settle, 0);
}

#[test]
fn a_spent_budget_in_the_warmup_keeps_the_first_rank() {
    // The loss falls 5 % per window for ever: it never stagnates.
    let mut sim = Sim::new(1);
    sim.rate = 1.0;
    let mut c = Controller::adaptive(Search::Decreasing, 8, opts(200, 0));
    let mut log = c.begin();
    let mut loss = 100.0;
    while !c.done() {
        loss *= 0.995;
        log.extend(c.observe(loss));
    }
    assert_eq!(actions(&log), vec![Action::SetK { k: 8 }, Action::Stop]);
    assert!(log[1].reason.contains("before the loss stagnated: k* = 8"));
    assert_eq!(c.target(), None);
    assert_eq!(c.search_steps().unwrap().warmup, 200);
    assert_eq!(c.search_steps().unwrap().total(), 200);
    drop(sim);
}

/// Starts `c`, runs it `steps` steps on `sim`, and returns its serialised-and-restored
/// copy, as a checkpoint would.
fn checkpointed(c: &mut Controller, sim: &mut Sim, steps: usize) -> Controller {
    for d in c.begin() {
        sim.apply(&d);
    }
    for _ in 0..steps {
        let l = sim.step();
        for d in c.observe(l) {
            sim.apply(&d);
        }
    }
    let b: Controller = serde_json::from_str(&serde_json::to_string(c).unwrap()).unwrap();
    assert_eq!(c, &b);
    b
}

/// Runs both controllers on the same losses until `a` is done (at most `limit`
/// steps), checking they decide alike; returns the decisions.
fn decide_alike(
    a: &mut Controller,
    b: &mut Controller,
    sim: &mut Sim,
    limit: usize,
) -> Vec<Decision> {
    let mut log = vec![];
    for _ in 0..limit {
        if a.done() {
            break;
        }
        let l = sim.step();
        let (da, db) = (a.observe(l), b.observe(l));
        assert_eq!(da, db);
        for d in &da {
            sim.apply(d);
        }
        log.extend(da);
    }
    log
}

#[test]
fn a_restored_controller_decides_exactly_like_the_original() {
    let mut a = Controller::adaptive(Search::Decreasing, 6, opts(100_000, 5));
    let mut sim = Sim::new(3);
    sim.noise = 0.01;
    // Part-way through the search, save the state as a checkpoint would.
    let mut b = checkpointed(&mut a, &mut sim, 150);
    let decided = decide_alike(&mut a, &mut b, &mut sim, 2000).len();
    assert!(decided > 0 && a.done());
    // The accounting carried over too: the resumed copy counts every step once.
    assert_eq!(a.search_steps(), b.search_steps());
    assert_eq!(b.search_steps().unwrap().total(), b.steps().0);
}

fn ranks_set(log: &[Decision]) -> Vec<(usize, usize)> {
    log.iter()
        .filter_map(|d| match d.action {
            Action::SetK { k } => Some((d.step, k)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_annealed_rank_falls_geometrically_to_k_then_stays() {
    let mut o = opts(200, 10);
    o.anneal = 100;
    let mut c = Controller::annealed(2, 64, o);
    let log = run(&mut c, &mut Sim::new(2));
    let set = ranks_set(&log);
    // Starts at min(batch, L) before the first step, reaches k at step `anneal`.
    assert_eq!(set.first(), Some(&(0, 64)));
    assert_eq!(set.last(), Some(&(100, 2)));
    assert!(
        set.windows(2).all(|w| w[1].1 < w[0].1 && w[1].0 > w[0].0),
        "{set:?}"
    );
    // Equal steps per halving: 32 after a fifth of the steps, 16 after two fifths, …
    let at = |t: usize| set.iter().take_while(|(s, _)| *s <= t).last().map(|p| p.1);
    assert_eq!(
        [at(20), at(40), at(60), at(80)],
        [Some(32), Some(16), Some(8), Some(4)]
    );
    assert!(log[0]
        .reason
        .contains("annealing the rank from 64 to 2 over 100 steps"));
    let tail: Vec<Action> = actions(&log).into_iter().skip(set.len()).collect();
    assert_eq!(tail, vec![Action::FineTune { k: 2 }, Action::Stop]);
    assert_eq!(step_of(&log, &Action::FineTune { k: 2 }), 200);
    assert_eq!(c.k_star(), Some(2));
}

#[test]
fn annealing_is_capped_at_the_training_steps_and_needs_a_higher_start() {
    // `--steps 50` on a file that anneals over 100: the rank still reaches k at the end.
    let mut o = opts(50, 0);
    o.anneal = 100;
    let mut c = Controller::annealed(3, 24, o);
    let log = run(&mut c, &mut Sim::new(3));
    assert_eq!(ranks_set(&log).last(), Some(&(50, 3)));
    assert_eq!(log.last().map(|d| (d.k, d.step)), Some((3, 50)));
    // Nothing to anneal when k is already min(batch, L), or with no training steps.
    let mut c = Controller::annealed(8, 8, o);
    assert_eq!(c, Controller::fixed(8, o));
    assert!(c.begin().is_empty());
    let mut c = Controller::annealed(2, 16, opts(0, 5));
    assert_eq!(actions(&c.begin()), vec![Action::FineTune { k: 2 }]);
}

#[test]
fn a_restored_annealing_controller_decides_like_the_original() {
    let mut o = opts(300, 5);
    o.anneal = 200;
    let mut a = Controller::annealed(2, 32, o);
    let mut sim = Sim::new(2);
    let mut b = checkpointed(&mut a, &mut sim, 70);
    let log = decide_alike(&mut a, &mut b, &mut sim, usize::MAX);
    let set = log
        .iter()
        .filter(|d| matches!(d.action, Action::SetK { .. }))
        .count();
    assert!(set > 0 && a.k_star() == Some(2));
}
