//! The small CNN behind the FID-style scores ("FID, local classifier features"): the
//! paper's scores use a fine-tuned Inception network, which is not available here, so
//! a classifier is trained on the dataset's own training split and its penultimate
//! features (64) stand in for Inception's.
//!
//! `conv 3×3/2 (16) → relu → conv 3×3/2 (32) → relu → linear (64) → relu → linear (classes)`,
//! trained with Adam on softmax cross-entropy, seeded.

use crate::error::Result;
use rrae_artifact::Geometry;
use rrae_engine::device::{Cpu, Device};
use rrae_engine::layer::conv::Weighted;
use rrae_engine::layer::linear::Dense;
use rrae_engine::model::{infer, run, Layer, Lowered};
use rrae_engine::ops::loss::cross_entropy;
use rrae_engine::optim::Optimizer;
use rrae_engine::params::{gradients, Init, ParamSet};
use rrae_engine::tape::Tape;

/// Width of the feature layer.
pub const FEATURES: usize = 64;

pub struct Classifier {
    body: Vec<Lowered>,
    head: Vec<Lowered>,
    params: ParamSet,
    dim: usize,
    dev: Cpu,
}

fn layer(label: &str, layer: Layer) -> Lowered {
    Lowered {
        node: 0,
        label: label.into(),
        layer,
    }
}

impl Classifier {
    /// For `c`-channel `h × w` images and `classes` classes.
    pub fn new(c: usize, h: usize, w: usize, classes: usize, seed: u64) -> Classifier {
        let mut ps = ParamSet::default();
        let mut init = Init::new(seed);
        let half = |n: usize| (n + 2 - 3) / 2 + 1;
        let conv = |ps: &mut ParamSet, init: &mut Init, cin, cout, big: [usize; 2], name: &str| {
            let small = [half(big[0]), half(big[1])];
            let geo = Geometry::new(cin, big, small, [3, 3], [2, 2], [1, 1], [1, 1]);
            let k = geo.col_rows();
            let w = ps.push(
                format!("{name}.weight"),
                vec![cout, k],
                init.uniform(cout * k, k),
            );
            let b = ps.push(format!("{name}.bias"), vec![cout], init.uniform(cout, k));
            (
                layer(name, Layer::Conv(Weighted { geo, w, b: Some(b) })),
                small,
            )
        };
        let lin = |ps: &mut ParamSet, init: &mut Init, i: usize, o: usize, name: &str| {
            let w = ps.push(format!("{name}.weight"), vec![i, o], init.uniform(i * o, i));
            let b = ps.push(format!("{name}.bias"), vec![o], init.uniform(o, i));
            layer(name, Layer::Linear(Dense { w, b: Some(b) }))
        };
        let relu = || layer("relu", Layer::Relu(()));
        let (c1, s1) = conv(&mut ps, &mut init, c, 16, [h, w], "conv1");
        let (c2, s2) = conv(&mut ps, &mut init, 16, 32, s1, "conv2");
        let flat = 32 * s2[0] * s2[1];
        let f = lin(&mut ps, &mut init, flat, FEATURES, "features");
        let head = vec![lin(&mut ps, &mut init, FEATURES, classes, "head")];
        Classifier {
            body: vec![c1, relu(), c2, relu(), f, relu()],
            head,
            params: ps,
            dim: c * h * w,
            dev: Cpu,
        }
    }

    /// `steps` Adam steps (lr 1e-3) on seeded batches of 64 of `x` (rows) and `y`.
    pub fn train(&mut self, x: &[f32], y: &[u8], steps: usize, seed: u64) -> Result<()> {
        let n = y.len().min(x.len() / self.dim);
        let kind = rrae_lang::ir::Optimizer::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let mut opt = Optimizer::new(kind, &self.params);
        let mut batches = rrae_train::data::Batches::new(n, 64, seed);
        for _ in 0..steps {
            let idx = batches.next_batch();
            let rows = rrae_train::data::gather(x, self.dim, &idx);
            let labels: Vec<usize> = idx.iter().map(|&i| y[i] as usize).collect();
            let mut tape = Tape::new(self.dev);
            let vars = self.params.bind(&mut tape);
            let xb = tape.constant(self.dev.upload(&rows), idx.len(), self.dim);
            let h = run(&mut tape, &self.body, &vars, xb, None)?;
            let logits = run(&mut tape, &self.head, &vars, h, None)?;
            let l = cross_entropy(&mut tape, logits, &labels);
            let mut grads = tape.backward(l)?;
            let g = gradients(&mut grads, &vars, &self.dev);
            opt.step(&mut self.params, &g, 1e-3);
        }
        Ok(())
    }

    /// Feature rows (`n × 64`) of image rows `x`.
    pub fn features(&self, x: &[f32]) -> Result<Vec<f32>> {
        Ok(infer(
            &self.dev,
            &self.body,
            &self.params,
            x,
            self.dim,
            512,
        )?)
    }

    /// Fraction of `x` classified as `y`.
    pub fn accuracy(&self, x: &[f32], y: &[u8]) -> Result<f64> {
        let f = self.features(x)?;
        let n = f.len() / FEATURES;
        let logits = infer(&self.dev, &self.head, &self.params, &f, FEATURES, n)?;
        let classes = logits.len() / n.max(1);
        let right = (0..n)
            .filter(|&i| {
                let row = &logits[i * classes..(i + 1) * classes];
                let best = (0..classes)
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap_or(0);
                best == y[i] as usize
            })
            .count();
        Ok(right as f64 / n.max(1) as f64)
    }
}
