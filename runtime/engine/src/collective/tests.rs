use super::*;

/// Runs `f(rank's collective)` on `n` threads; the results in rank order.
pub(crate) fn on_ranks<T: Send>(n: usize, f: impl Fn(&Threads) -> T + Sync) -> Vec<T> {
    let group = Threads::group(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = group.iter().map(|c| s.spawn(|| f(c))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("a rank panicked"))) // ok: test
            .collect()
    })
}

#[test]
fn shards_are_contiguous_and_cover_the_batch() {
    assert_eq!(shard_counts(10, 3), [4, 3, 3]);
    assert_eq!(shard_counts(9, 3), [3, 3, 3]);
    assert_eq!(shard_counts(2, 3), [1, 1, 0]);
    assert_eq!(shard_start(&[4, 3, 3], 2), 7);
    assert_eq!(shard_counts(7, 1), [7]);
}

#[test]
fn all_gather_concatenates_uneven_parts_in_rank_order() {
    let counts = [2, 0, 3];
    let got = on_ranks(3, |c| {
        let mine: Vec<f64> = (0..counts[c.rank()])
            .map(|i| (10 * c.rank() + i) as f64)
            .collect();
        c.all_gather_f64(&mine, &counts)
            .unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    for g in got {
        assert_eq!(g, [0.0, 1.0, 20.0, 21.0, 22.0]);
    }
}

/// The sum is the same bits on every rank and equals the sequential rank-order sum
/// (not, say, a tree that pairs ranks 1 and 2 first).
#[test]
fn sums_add_in_rank_order_and_agree_on_every_rank() {
    let parts = [[1.0f64, 1e16], [1e16, 1.0], [-1e16, -1e16]];
    let got = on_ranks(3, |c| {
        let mut v = parts[c.rank()].to_vec();
        c.sum_f64(&mut v).unwrap_or_else(|e| panic!("{e}")); // ok: test
        v
    });
    let want = [(1.0 + 1e16) + -1e16, (1e16 + 1.0) + -1e16];
    for g in &got {
        assert_eq!(g.as_slice(), want.as_slice());
    }
    assert_eq!(want, [0.0, 0.0]);
    assert_eq!(1.0 + (1e16 + -1e16), 1.0, "another order gives another sum");
}

#[test]
fn broadcast_gives_every_rank_the_roots_bytes() {
    let got = on_ranks(3, |c| {
        let mut b = vec![c.rank() as u8; 1 + c.rank()];
        c.broadcast(&mut b, 1).unwrap_or_else(|e| panic!("{e}")); // ok: test
        b
    });
    assert!(got.iter().all(|b| b == &[1, 1]), "{got:?}");
}

#[test]
fn counts_that_disagree_fail_on_every_rank_alike() {
    let got = on_ranks(2, |c| c.all_gather_f32(&[1.0; 3], &[3, 2]).is_err());
    assert_eq!(got, [true, true]);
}

#[test]
fn one_process_exchanges_nothing() {
    let mut v = vec![1.5, 2.5];
    Single.sum_f64(&mut v).unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert_eq!(v, [1.5, 2.5]);
    assert_eq!(Single.all_gather_f32(&[3.0], &[1]).ok(), Some(vec![3.0]));
}

#[test]
fn ranks_started_differently_are_refused_on_every_rank() {
    let same = on_ranks(3, |c| agree(c, "the model file", "a").is_ok());
    assert_eq!(same, [true, true, true]);
    let odd = on_ranks(3, |c| {
        let v = if c.rank() == 2 { "b" } else { "a" };
        agree(c, "the model file", v).map_err(|e| e.to_string())
    });
    for r in odd {
        let e = r.err().unwrap_or_default();
        assert!(
            e.contains("at rank 2") && e.contains("differs from rank 0's on rank [2]"),
            "{e}"
        );
    }
}
