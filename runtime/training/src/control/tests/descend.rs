//! A descended fixed rank (`svd_truncate(k = 2, descend = true)`): Algorithm 1's descent
//! with its floor known, then training at that rank to the end of the steps.

use super::*;

#[test]
fn descends_one_rank_per_target_reached_then_trains_at_k_to_the_end() {
    let mut c = Controller::descending(3, 6, opts(2000, 5));
    let log = run(&mut c, &mut Sim::new(2));
    use Action::*;
    // Algorithm 1's path down to 3, then no probe of 2: fine-tuning at 3.
    let mut path = down_from_6_to_3()[..8].to_vec();
    path.extend([FineTune { k: 3 }, Stop]);
    assert_eq!(actions(&log), path);
    assert_eq!(
        log[0].reason,
        "descending to k = 3 from k = min(batch, L) = 6"
    );
    // Rank 3 is kept to the end of the training steps, not to a stagnation.
    assert_eq!(step_of(&log, &FineTune { k: 3 }), 2000);
    assert_eq!(c.k(), 3);
}

#[test]
fn a_rank_below_the_datas_is_still_reached_and_never_restored() {
    // True rank 3: Algorithm 1 would give k = 2 up and go back to 3; a fixed k = 2 stays.
    let mut c = Controller::descending(2, 6, opts(5000, 0));
    let log = run(&mut c, &mut Sim::new(3));
    use Action::*;
    assert!(!log.iter().any(|d| matches!(d.action, Restore { .. })));
    let set2 = step_of(&log, &SetK { k: 2 });
    let kept = &log[log.len() - 2];
    assert_eq!(kept.action, Save { k: 2 });
    assert_eq!(
        kept.step - set2,
        2 * 10 + 30 - 1,
        "two windows, then patience"
    );
    assert!(
        kept.reason
            .contains("k = 2 stagnated above the target for 30 steps; the rank is fixed at 2"),
        "{}",
        kept.reason
    );
    assert_eq!(
        (log.last().unwrap().action.clone(), log.last().unwrap().step),
        (Stop, 5000)
    );
    assert_eq!(c.k(), 2);
}

#[test]
fn a_stagnating_rank_above_k_gives_way_to_the_next() {
    // True rank 4, floor 2: k = 3 stagnates above the target, and the descent goes on.
    let mut c = Controller::descending(2, 6, opts(10_000, 0));
    let log = run(&mut c, &mut Sim::new(4));
    let three = log
        .iter()
        .find(|d| d.reason.starts_with("k = 3 stagnated above the target"))
        .unwrap();
    assert_eq!(three.action, Action::SetK { k: 2 });
    assert!(
        three
            .reason
            .ends_with("the rank is fixed at 2: one rank less"),
        "{}",
        three.reason
    );
    assert_eq!(c.k(), 2);
}

#[test]
fn a_budget_spent_mid_descent_still_ends_at_k() {
    let mut c = Controller::descending(2, 6, opts(60, 5));
    let log = run(&mut c, &mut Sim::new(2));
    let end = log
        .iter()
        .find(|d| d.step == 60 && d.action == Action::SetK { k: 2 })
        .unwrap();
    assert!(
        end.reason.contains("before the descent reached k = 2"),
        "{}",
        end.reason
    );
    assert_eq!(
        actions(&log[log.len() - 2..]),
        vec![Action::FineTune { k: 2 }, Action::Stop]
    );
}

#[test]
fn nothing_to_descend_is_the_fixed_schedule() {
    assert_eq!(
        Controller::descending(8, 8, opts(10, 0)),
        Controller::fixed(8, opts(10, 0))
    );
}

#[test]
fn a_restored_descending_controller_decides_like_the_original() {
    let mut a = Controller::descending(2, 6, opts(3000, 5));
    let mut sim = Sim::new(3);
    sim.noise = 0.01;
    let mut b = checkpointed(&mut a, &mut sim, 150);
    let decided = decide_alike(&mut a, &mut b, &mut sim, 5000);
    assert!(a.done() && !decided.is_empty());
    assert_eq!(a.search_steps(), None, "a descended rank is not a search");
}

#[test]
fn a_budget_spent_while_k_itself_has_not_reached_the_target_still_ends_at_k() {
    // True rank 3, floor 2: k = 2 never reaches the target; the budget ends it at 2,
    // with no restore of 3 (a fixed rank is fixed).
    let mut c = Controller::descending(
        2,
        6,
        Options {
            patience: 100_000,
            ..opts(400, 1)
        },
    );
    let log = run(&mut c, &mut Sim::new(3));
    assert!(
        !log.iter()
            .any(|d| matches!(d.action, Action::Restore { .. })),
        "{log:?}"
    );
    assert_eq!(c.k(), 2);
    assert_eq!(log[log.len() - 2].action, Action::FineTune { k: 2 });
}
