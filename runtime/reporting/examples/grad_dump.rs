//! Prints the loss and per-parameter gradient norms of one training step on the
//! first `batch` training samples, for a saved model: a cross-check against another
//! framework fed the same weights (see bench/torch_grad_check.py).
//!
//! `cargo run --release -p rrae-report --example grad_dump -- runs/x/model.safetensors`

use rrae_engine::device::{Cpu, Device};
use rrae_engine::model::Model;
use rrae_engine::ops::elementwise::add;
use rrae_engine::ops::loss::loss;
use rrae_engine::tape::Tape;
use rrae_train::data::{gather, Dataset};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: grad_dump MODEL.safetensors")?;
    let saved = rrae_report::load::read_model(path.as_ref())?;
    let ir = rrae_lang::check_str(&saved.file, &saved.source)
        .result
        .map_err(|_| "model source does not check")?;
    let mut model = Model::lower(&ir, 0)?;
    saved.restore(&mut model.params, path.as_ref())?;
    let data = Dataset::load(ir.data.as_ref().ok_or("no data")?)?;
    let dev = Cpu;
    let b = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(ir.train.batch);
    let idx: Vec<usize> = (0..b).collect();
    let x: Vec<f64> = gather(&data.train, data.dim, &idx)
        .iter()
        .map(|&v| v as f64)
        .collect();
    let mut tape = Tape::<_, f64>::new(dev);
    let params = model.params.bind(&mut tape);
    let x = tape.constant(dev.upload(&x), b, data.dim);
    let y = model.encode(&mut tape, &params, x, None)?;
    // The operator's training form, penalty included (bench/torch_grad_check.py
    // mirrors the RRAE and the Long AE).
    let (z, penalty) = model.latent.forward(&mut tape, y, &params)?;
    let pred = model.decode(&mut tape, &params, z, None)?;
    let l = loss(&mut tape, ir.train.loss, pred, x);
    let l = match penalty {
        Some(p) => add(&mut tape, l, p)?,
        None => l,
    };
    println!("loss {:.10}", tape.item(l));
    let mut grads = tape.backward(l)?;
    let g = rrae_engine::params::gradients(&mut grads, &params, &dev);
    for (p, g) in model.params.params.iter().zip(&g) {
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        println!("{} {:.8e}", p.name, norm);
    }
    Ok(())
}
