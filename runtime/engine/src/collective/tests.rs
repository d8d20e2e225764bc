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

/// The check the MPI and NCCL examples run passes on the thread ranks and on one
/// process, and fails on a collective that sums in another order.
#[test]
fn the_shared_check_passes_on_threads_and_fails_on_a_wrong_sum() {
    for n in 1..=4 {
        assert!(
            on_ranks(n, |c| check(c)).iter().all(|r| r.is_ok()),
            "{n} ranks"
        );
    }
    assert_eq!(check(&Single), Ok(()));

    /// Thread ranks whose sum adds the ranks backwards.
    #[derive(Debug)]
    struct Backwards(Threads);
    impl Collective for Backwards {
        fn rank(&self) -> usize {
            self.0.rank()
        }
        fn size(&self) -> usize {
            self.0.size()
        }
        fn all_gather_f64(&self, l: &[f64], c: &[usize]) -> Result<Vec<f64>> {
            self.0.all_gather_f64(l, c)
        }
        fn all_gather_f32(&self, l: &[f32], c: &[usize]) -> Result<Vec<f32>> {
            self.0.all_gather_f32(l, c)
        }
        fn broadcast(&self, b: &mut Vec<u8>, root: usize) -> Result<()> {
            self.0.broadcast(b, root)
        }
        fn abort(&self, code: i32) -> ! {
            self.0.abort(code)
        }
        fn sum_f64(&self, v: &mut [f64]) -> Result<()> {
            let n = v.len();
            let all = self.0.all_gather_f64(v, &vec![n; self.size()])?;
            for (i, x) in v.iter_mut().enumerate() {
                *x = (0..self.size()).rev().map(|r| all[r * n + i]).sum();
            }
            Ok(())
        }
    }
    let got = on_ranks(3, |c| check(&Backwards(c.clone())));
    assert!(
        got.iter()
            .all(|r| r.as_ref().is_err_and(|e| e.contains("sum_f64"))),
        "{got:?}"
    );
}

/// Joining NCCL where its library (or CUDA's) is missing is an error that names what
/// is missing, on every rank, never cudarc's panic; where both are there, one rank
/// joins on device 0 and passes the check.
#[test]
fn joining_nccl_fails_clearly_without_its_library_and_works_with_it() {
    if nccl_library().is_ok() {
        let nccl = Nccl::join(Arc::new(Single), 0).unwrap_or_else(|e| panic!("{e}")); // ok: test
        assert_eq!(check(&nccl), Ok(()));
        return;
    }
    let got = on_ranks(2, |c| {
        Nccl::join(Arc::new(c.clone()), 0)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    for r in got {
        let e = r.err().unwrap_or_default();
        assert!(e.contains("was not found"), "{e}");
        assert!(e.contains("LD_LIBRARY_PATH"), "{e}");
    }
}
