//! The distributed step against the single-process step: with 2 and 3 ranks (threads,
//! uneven shards) the loss and every parameter's gradient summed over ranks equal one
//! process's on the whole batch, to f64 rounding, for latent operators with and
//! without a penalty.

use super::{gather_rows, shard_rows, sharded_loss, Shards};
use crate::collective::{shard_counts, shard_start, Collective, Threads};
use crate::device::{Cpu, Device};
use crate::model::Model;
use crate::ops::elementwise::add;
use crate::ops::gradcheck::noise;
use crate::ops::loss::loss;
use crate::tape::Tape;
use rrae_lang::ir::Loss;
use std::sync::Arc;

fn model(latent: &str) -> Model {
    let src = format!(
        "model m {{ input [6] encoder {{ linear(5) relu linear(4) }} latent {latent} decoder {{ linear(5) tanh linear(6) }} }}"
    );
    let ir = rrae_lang::check_str("m.rrae", &src)
        .result
        .unwrap_or_else(|e| panic!("{e:?}")); // ok: test
    Model::lower(&ir, 3).unwrap_or_else(|e| panic!("{e}")) // ok: test
}

/// One process on the whole batch `x` (`rows` × 6): the loss and each gradient.
fn single(m: &Model, x: &[f64], rows: usize, kind: Loss) -> (f64, Vec<Vec<f64>>) {
    let mut tape = Tape::<_, f64>::new(Cpu);
    let params = m.params.bind(&mut tape);
    let xv = tape.constant(Cpu.upload(x), rows, 6);
    let y = m
        .encode(&mut tape, &params, xv, None)
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let (z, pen) = m
        .latent
        .forward(&mut tape, y, &params)
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let pred = m
        .decode(&mut tape, &params, z, None)
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let mut l = loss(&mut tape, kind, pred, xv);
    if let Some(p) = pen {
        l = add(&mut tape, l, p).unwrap_or_else(|e| panic!("{e}")); // ok: test
    }
    let value = tape.item(l);
    let mut g = tape.backward(l).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let grads = params
        .iter()
        .map(|p| g.take(*p).map_or(vec![], |b| Cpu.download(&b)))
        .collect();
    (value, grads)
}

/// The same step on `n` ranks: each its shard of `x`; gradients summed over ranks.
fn distributed(
    m: &Model,
    x: &[f64],
    rows: usize,
    kind: Loss,
    n: usize,
) -> Vec<(f64, Vec<Vec<f64>>)> {
    let counts = shard_counts(rows, n);
    let group = Threads::group(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = group
            .into_iter()
            .map(|c| {
                let counts = counts.clone();
                s.spawn(move || {
                    let r = c.rank();
                    let shards = Shards {
                        comm: Arc::new(c) as Arc<dyn Collective>,
                        rows: counts.clone(),
                    };
                    let start = shard_start(&counts, r);
                    let mine = &x[start * 6..(start + counts[r]) * 6];
                    let mut tape = Tape::<_, f64>::new(Cpu);
                    let params = m.params.bind(&mut tape);
                    let xv = tape.constant(Cpu.upload(mine), counts[r], 6);
                    let fail = |e: crate::EngineError| -> ! { panic!("rank {r}: {e}") }; // ok: test
                    let y = m
                        .encode(&mut tape, &params, xv, None)
                        .unwrap_or_else(|e| fail(e));
                    let yg = gather_rows(&mut tape, &shards, y).unwrap_or_else(|e| fail(e));
                    let (z, pen) = m
                        .latent
                        .forward(&mut tape, yg, &params)
                        .unwrap_or_else(|e| fail(e));
                    let zr = shard_rows(&mut tape, &shards, z).unwrap_or_else(|e| fail(e));
                    let pred = m
                        .decode(&mut tape, &params, zr, None)
                        .unwrap_or_else(|e| fail(e));
                    let mut l = sharded_loss(&mut tape, &shards, kind, pred, xv)
                        .unwrap_or_else(|e| fail(e));
                    if let Some(p) = pen {
                        l = add(&mut tape, l, p).unwrap_or_else(|e| fail(e));
                    }
                    let value = tape.item(l);
                    let mut g = tape.backward(l).unwrap_or_else(|e| fail(e));
                    let grads = params
                        .iter()
                        .enumerate()
                        .map(|(i, p)| {
                            let mut v = g.take(*p).map_or(vec![0.0; 0], |b| Cpu.download(&b));
                            // The latent map's own gradients are the same on every rank.
                            if !m.latent_params.contains(&i) {
                                shards.comm.sum_f64(&mut v).unwrap_or_else(|e| fail(e));
                            }
                            v
                        })
                        .collect();
                    (value, grads)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("a rank panicked"))) // ok: test
            .collect()
    })
}

fn worst(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).map(|(u, v)| (u - v).abs())
        })
        .fold(0.0, f64::max)
        / scale
}

#[test]
fn n_ranks_give_the_single_process_loss_and_gradients() {
    let rows = 7;
    let x = noise(rows * 6, 21);
    for (latent, kind) in [
        ("svd_truncate(k = 2)", Loss::RelativeL2),
        ("svd_truncate(k = 3)", Loss::Mse),
        ("identity", Loss::RelativeL2),
        ("sigmoid_sparse(rho = 0.1, beta = 0.5)", Loss::RelativeL2),
        ("weak_svd(k = 2, beta = 0.3)", Loss::RelativeL2),
        ("learned_basis(k = 2)", Loss::RelativeL2),
        ("linear_stack(l = 2)", Loss::RelativeL2),
    ] {
        assert_eq!(
            model(latent).latent.sharding(),
            crate::latent::Sharding::GlobalBatch
        );
        let m = model(latent);
        let (want_loss, want) = single(&m, &x, rows, kind);
        for n in [1, 2, 3] {
            let ranks = distributed(&m, &x, rows, kind, n);
            for (r, (l, g)) in ranks.iter().enumerate() {
                assert!(
                    (l - want_loss).abs() <= 1e-12 * want_loss.abs().max(1.0),
                    "{latent}, {n} ranks, rank {r}: loss {l} vs {want_loss}"
                );
                let err = worst(&want, g);
                assert!(
                    err < 1e-12,
                    "{latent}, {n} ranks, rank {r}: gradients off by {err:e}"
                );
                // Every rank holds the same summed gradients, bit for bit.
                assert_eq!(
                    g, &ranks[0].1,
                    "{latent}, {n} ranks: rank {r} differs from rank 0"
                );
            }
        }
    }
}

/// The contractive penalty is computed through the encoder's weight on the whole batch,
/// so every rank would count its gradient again: it says so rather than train wrong.
#[test]
fn the_contractive_penalty_is_refused_until_it_is_sharded() {
    let src = "model m { input [6] encoder { linear(4) } latent contractive(beta = 0.1) decoder { linear(6) } }";
    let ir = rrae_lang::check_str("m.rrae", src)
        .result
        .unwrap_or_else(|e| panic!("{e:?}")); // ok: test
    let m = Model::lower(&ir, 0).unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert!(
        matches!(m.latent.sharding(), crate::latent::Sharding::Unsupported(why) if why.contains("every rank"))
    );
}
