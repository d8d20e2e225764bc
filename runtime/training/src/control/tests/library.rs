//! The `library` search (the authors' `RRAE_gen_Tracker`) on synthetic traces: its
//! target, its give-up without a restore, and its settling, each against the rule
//! computed directly from the losses.

use super::*;

/// The library's own window (20), patience 30 and eps_0 1 %.
fn library_opts() -> Options {
    Options {
        window: rrae_lang::latent::svd_truncate::LIBRARY_WINDOW,
        ..opts(100_000, 5)
    }
}

/// The running mean of the last 20 losses and the deviation from it, computed here
/// from scratch, from the library's step index 21 on.
fn deviations(losses: &[f64]) -> Vec<Option<(f64, f64)>> {
    (0..losses.len())
        .map(|i| {
            (i > 20).then(|| {
                let mean = losses[i + 1 - 20..=i].iter().sum::<f64>() / 20.0;
                (mean, (losses[i] - mean).abs() / mean)
            })
        })
        .collect()
}

#[test]
fn the_target_is_the_running_mean_after_fifty_steps_near_it() {
    let mut c = Controller::adaptive(Search::Library, 6, library_opts());
    let log = run(&mut c, &mut Sim::new(3));
    // The warm-up's losses, replayed on a fresh simulation at k = 6.
    let mut sim = Sim::new(3);
    sim.k = 6;
    let losses: Vec<f64> = (0..log[1].step).map(|_| sim.step()).collect();
    let near: Vec<usize> = deviations(&losses)
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_some_and(|(_, d)| d < 0.05))
        .map(|(i, _)| i)
        .collect();
    // The 50th near step is the warm-up's last, and its running mean is the target.
    assert_eq!(near.len(), 50, "the warm-up ended at the 50th near step");
    assert_eq!(*near.last().unwrap(), log[1].step - 1);
    let (mean, _) = deviations(&losses)[log[1].step - 1].unwrap();
    assert!((log[1].target.unwrap() - mean).abs() < 1e-12);
    assert_eq!(log[1].action, Action::Save { k: 6 });
    assert!(
        log[1]
            .reason
            .contains("50 steps were within 5 % of the running mean of 20 losses"),
        "{}",
        log[1].reason
    );
}

#[test]
fn library_gives_up_a_rank_without_restoring_and_trains_on_one_rank_up() {
    let mut c = Controller::adaptive(Search::Library, 6, library_opts());
    let log = run(&mut c, &mut Sim::new(3));
    use Action::*;
    // Algorithm 1's path, but the give-up is `set_k 3` from the model trained at 2.
    let mut path = down_from_6_to_3();
    path[9] = SetK { k: 3 };
    assert_eq!(actions(&log), path);
    assert_eq!(c.k_star(), Some(3));
    assert!(
        log[9]
            .reason
            .contains("k = 2 had 30 steps within 1.00 % of the running mean")
            && log[9].reason.contains("on at k = 3 from this model"),
        "{}",
        log[9].reason
    );
    // k = 2 converges to its floor 6, above the target: it is given up at the 30th
    // step near the running mean (which spans the ranks before it).
    let mut sim = Sim::new(3);
    let mut losses = vec![];
    let mut c2 = Controller::adaptive(Search::Library, 6, library_opts());
    for d in c2.begin() {
        sim.apply(&d);
    }
    while losses.len() < log[9].step {
        let l = sim.step();
        losses.push(l);
        for d in c2.observe(l) {
            sim.apply(&d);
        }
    }
    let set2 = step_of(&log, &SetK { k: 2 });
    let near = deviations(&losses)[set2..]
        .iter()
        .filter(|d| d.is_some_and(|(_, d)| d < 0.01))
        .count();
    assert_eq!(near, 30);
    // Settling: 30 more steps near the running mean (within 5 %), then fine-tuning.
    let fine = step_of(&log, &FineTune { k: 3 });
    assert!(fine - log[9].step >= 30);
    let spent = c.search_steps().unwrap();
    assert_eq!(
        (spent.given_up, &spent.given_up_ranks),
        (log[9].step - set2, &vec![2])
    );
    assert_eq!(spent.settle, fine - log[9].step);
}

#[test]
fn a_restored_library_controller_decides_like_the_original() {
    let mut a = Controller::adaptive(Search::Library, 6, library_opts());
    let mut sim = Sim::new(3);
    sim.noise = 0.01;
    // Mid-warm-up and mid-search: the running mean travels with the checkpoint.
    let mut b = checkpointed(&mut a, &mut sim, 60);
    let decided = decide_alike(&mut a, &mut b, &mut sim, 5000);
    assert!(a.done() && !decided.is_empty());
    assert_eq!(a.search_steps(), b.search_steps());
}

#[test]
fn a_target_given_outright_ends_the_warm_up_at_the_first_step_below_it() {
    let opts = Options {
        target: Some(30.0),
        ..library_opts()
    };
    let mut c = Controller::adaptive(Search::Library, 6, opts);
    let log = run(&mut c, &mut Sim::new(3));
    // The Sim's loss at k = 6 is 1 + 99 · 0.98^t: below 30 first at step t = 62.
    let first = (1..)
        .find(|t| 1.0 + 99.0 * 0.98f64.powi(*t) < 30.0)
        .unwrap();
    assert_eq!(
        (log[1].step, log[1].action.clone()),
        (first as usize, Action::Save { k: 6 })
    );
    assert_eq!(log[1].target, Some(30.0));
    assert!(
        log[1]
            .reason
            .contains("is below the given target 30.000000"),
        "{}",
        log[1].reason
    );
    // The target decides k*: ranks 2 and 1 (floors 6 and 11) reach 30, not 3.
    assert_eq!(c.k_star(), Some(1));
    let tight = Options {
        target: Some(3.0),
        ..library_opts()
    };
    let mut c = Controller::adaptive(Search::Library, 6, tight);
    // Lowering the rank costs a jump, so a rank below 3 does not start under the target.
    let mut sim = Sim::new(3);
    sim.jump = 5.0;
    run(&mut c, &mut sim);
    assert_eq!(c.k_star(), Some(3));
}
