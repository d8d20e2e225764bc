//! The `trend` search against Algorithm 1 on the same synthetic traces: it decides
//! exactly as Algorithm 1 until its trend test gives a rank up, and only then differs.

use super::*;

/// `opts` with the trend test's default horizon, 5 · patience = 150 steps; it looks at
/// a rank from 2 · patience = 60 steps on.
fn trend_opts() -> Options {
    Options {
        horizon: 150,
        ..opts(100_000, 5)
    }
}

/// True rank 3; ranks ≥ 3 converge fast, while k = 2 starts 101 times higher and falls
/// 1.5 % per window towards its floor of 6, above the target: Algorithm 1 only finds
/// it stagnant once it is near that floor, over a thousand steps later.
fn slow_failure() -> Sim {
    let mut s = Sim::new(3);
    s.rate = 0.5;
    s.below = Some((100.0, 0.9985));
    s
}

#[test]
fn trend_gives_up_a_slowly_improving_rank_early_with_algorithm_1s_k_star() {
    let mut a1 = Controller::adaptive(Search::Decreasing, 6, opts(100_000, 5));
    let a1_log = run(&mut a1, &mut slow_failure());
    let mut tr = Controller::adaptive(Search::Trend, 6, trend_opts());
    let log = run(&mut tr, &mut slow_failure());
    use Action::*;
    let path = down_from_6_to_3();
    assert_eq!(actions(&a1_log), path);
    assert_eq!(actions(&log), path);
    assert_eq!((a1.k_star(), tr.k_star()), (Some(3), Some(3)));
    // Up to the give-up the two runs are the same, step for step and reason for reason.
    assert_eq!(log[..9], a1_log[..9]);
    // Algorithm 1 trained k = 2 for hundreds of steps; the trend search gives it up
    // at the first window end once it has trained 2 · patience = 60 steps.
    let set2 = step_of(&log, &SetK { k: 2 });
    let a1_given_up = step_of(&a1_log, &Restore { k: 3 }) - set2;
    assert_eq!(step_of(&log, &Restore { k: 3 }) - set2, 60);
    assert!(
        a1_given_up > 1000,
        "Algorithm 1 gave k = 2 up after {a1_given_up}"
    );
    let why = &log[9].reason;
    assert!(
        why.contains("k = 2 has trained 60 steps above the target")
            && why.contains("at the rate of its last 30 steps")
            && why.contains("(horizon 150); back to k = 3"),
        "{why}"
    );
    // The saving is all in the given-up rank.
    let (a, t) = (a1.search_steps().unwrap(), tr.search_steps().unwrap());
    assert_eq!((t.warmup, t.kept), (a.warmup, a.kept));
    assert_eq!((t.given_up, &t.given_up_ranks), (60, &vec![2]));
    assert_eq!(a.given_up, a1_given_up);
    assert!(t.total() < a.total(), "{t} against {a}");
}

#[test]
fn trend_decides_like_algorithm_1_when_no_rank_is_off_course() {
    // Every lower rank starts four times higher and needs ~200 steps at 2 % a step
    // to win the loss back: past 2 · patience, but on course, so it is kept. The
    // failing rank gets worse at once and is given up by patience, before 60 steps.
    let sim = || {
        let mut s = Sim::new(3);
        s.rate = 0.98;
        s.jump = 3.0;
        s
    };
    let mut a1 = Controller::adaptive(Search::Decreasing, 6, opts(100_000, 5));
    let a1_log = run(&mut a1, &mut sim());
    let mut tr = Controller::adaptive(Search::Trend, 6, trend_opts());
    let log = run(&mut tr, &mut sim());
    assert_eq!(log, a1_log);
    assert_eq!(tr.k_star(), Some(3));
    // The kept ranks did train past the point where the trend test looks.
    let sets = ranks_set(&log);
    let set4 = sets.iter().find(|(_, k)| *k == 4).map(|(s, _)| *s).unwrap();
    let saved4 = step_of(&log, &Action::Save { k: 4 });
    assert!(saved4 - set4 > 60, "k = 4 took {} steps", saved4 - set4);
}

#[test]
fn a_zero_horizon_is_algorithm_1() {
    let mut a1 = Controller::adaptive(Search::Decreasing, 6, opts(100_000, 5));
    let a1_log = run(&mut a1, &mut slow_failure());
    let mut tr = Controller::adaptive(Search::Trend, 6, opts(100_000, 5));
    assert_eq!(run(&mut tr, &mut slow_failure()), a1_log);
}

#[test]
fn a_restored_trend_controller_decides_exactly_like_the_original() {
    // Checkpointed 40 steps into k = 2's probe: four blocks of its history are in the
    // state, and the copy must give k = 2 up at the same step.
    let mut probe = Controller::adaptive(Search::Trend, 6, trend_opts());
    let set2 = step_of(
        &run(&mut probe, &mut slow_failure()),
        &Action::SetK { k: 2 },
    );
    let mut a = Controller::adaptive(Search::Trend, 6, trend_opts());
    let mut sim = slow_failure();
    let mut b = checkpointed(&mut a, &mut sim, set2 + 40);
    assert_eq!(b.k(), 2);
    let log = decide_alike(&mut a, &mut b, &mut sim, 10_000);
    assert!(a.done());
    assert_eq!(step_of(&log, &Action::Restore { k: 3 }), set2 + 60);
    assert_eq!(a.search_steps(), b.search_steps());
}

/// Feeds `losses` to `c` after a warm-up whose target is 1.0 (20 steps at 1.0 at
/// k = 4); returns the decisions of the probe at k = 3.
fn probe_on(c: &mut Controller, losses: impl Iterator<Item = f64>) -> Vec<Decision> {
    c.begin();
    let warm: Vec<Decision> = (0..20).flat_map(|_| c.observe(1.0)).collect();
    assert_eq!(
        actions(&warm),
        [Action::Save { k: 4 }, Action::SetK { k: 3 }]
    );
    assert_eq!(c.target(), Some(1.0));
    losses.flat_map(|l| c.observe(l)).collect()
}

#[test]
fn the_trend_test_leaves_a_rank_near_the_target_to_patience() {
    // The probe falls 1.2 % per window of 10 steps: never stagnant, and from 1.9 times
    // the target it would need ~480 more steps after 60 (> horizon 150), but it is
    // under twice the target, where a minibatch may dip below it: not judged.
    let fall = |start: f64| (0..100).map(move |t| start * 0.9988f64.powi(t));
    let mut near = Controller::adaptive(Search::Trend, 4, trend_opts());
    assert_eq!(probe_on(&mut near, fall(1.9)), vec![]);
    let mut a1 = Controller::adaptive(Search::Decreasing, 4, opts(100_000, 5));
    assert_eq!(probe_on(&mut a1, fall(1.9)), vec![]);
    // The same fall from 3 times the target is given up at the first look, 60 steps in.
    let mut far = Controller::adaptive(Search::Trend, 4, trend_opts());
    let log = probe_on(&mut far, fall(3.0));
    assert_eq!(actions(&log), [Action::Restore { k: 4 }]);
    assert_eq!(log[0].step, 20 + 60);
    assert!(log[0].reason.contains("would need ~"), "{}", log[0].reason);
    // A rank that is far and flat would never get there. (After the warm-up,
    // stagnation is switched off, tolerance −1, so that patience cannot act first.)
    let mut flat = Controller::adaptive(Search::Trend, 4, trend_opts());
    probe_on(&mut flat, std::iter::empty());
    flat.opts.tolerance = -1.0;
    let log: Vec<Decision> = (0..100).flat_map(|_| flat.observe(4.0)).collect();
    assert_eq!(actions(&log)[0], Action::Restore { k: 4 });
    assert_eq!(log[0].step, 20 + 60);
    assert!(
        log[0].reason.contains("would never get there"),
        "{}",
        log[0].reason
    );
}
