//! The small CNN behind the FID-style scores ("FID, local classifier features"): the
//! paper's scores use a fine-tuned Inception network, which is not available here, so
//! a classifier is trained on the dataset's own training split and its penultimate
//! features (64) stand in for Inception's.
//!
//! `conv 3×3/2 (16) → relu → conv 3×3/2 (32) → relu → linear (64) → relu → linear (classes)`,
//! trained with Adam on softmax cross-entropy, seeded.

use dfdx::prelude::*;
use rrae_engine::adam::Optimizer;
use rrae_engine::model::{run, Layer, Lowered};
use rrae_engine::ops::activation::Activation;
use rrae_engine::ops::im2col::Geometry;
use rrae_engine::ops::loss::cross_entropy;
use rrae_engine::params::{gradients, Init, ParamSet};
use rrae_engine::tensor::mat;

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
    /// For single-channel `h × w` images and `classes` classes.
    pub fn new(h: usize, w: usize, classes: usize, seed: u64) -> Classifier {
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
            (layer(name, Layer::Conv { geo, w, b: Some(b) }), small)
        };
        let lin = |ps: &mut ParamSet, init: &mut Init, i: usize, o: usize, name: &str| {
            let w = ps.push(format!("{name}.weight"), vec![i, o], init.uniform(i * o, i));
            let b = ps.push(format!("{name}.bias"), vec![o], init.uniform(o, i));
            layer(name, Layer::Linear { w, b: Some(b) })
        };
        let relu = || layer("relu", Layer::Act(Activation::Relu));
        let (c1, s1) = conv(&mut ps, &mut init, 1, 16, [h, w], "conv1");
        let (c2, s2) = conv(&mut ps, &mut init, 16, 32, s1, "conv2");
        let flat = 32 * s2[0] * s2[1];
        let f = lin(&mut ps, &mut init, flat, FEATURES, "features");
        let head = vec![lin(&mut ps, &mut init, FEATURES, classes, "head")];
        Classifier {
            body: vec![c1, relu(), c2, relu(), f, relu()],
            head,
            params: ps,
            dim: h * w,
            dev: Cpu::default(),
        }
    }

    /// `steps` Adam steps (lr 1e-3) on seeded batches of 64 of `x` (rows) and `y`.
    pub fn train(&mut self, x: &[f32], y: &[u8], steps: usize, seed: u64) {
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
            let xb = mat(
                &self.dev,
                rrae_train::data::gather(x, self.dim, &idx),
                idx.len(),
                self.dim,
            );
            let labels: Vec<usize> = idx.iter().map(|&i| y[i] as usize).collect();
            let bound = self.params.bind::<f32>(&self.dev);
            let h = run(&self.body, &bound, xb.leaky_traced(), None);
            let logits = run(&self.head, &bound, h, None);
            let mut grads = cross_entropy(logits, &labels).backward();
            let g = gradients(&mut grads, &bound);
            opt.step(&mut self.params, &g, 1e-3);
        }
    }

    /// Feature rows (`n × 64`) of image rows `x`.
    pub fn features(&self, x: &[f32]) -> Vec<f32> {
        let bound = self.params.bind::<f32>(&self.dev);
        let mut out = Vec::with_capacity(x.len() / self.dim * FEATURES);
        for chunk in x.chunks(self.dim * 512) {
            let xb = mat(&self.dev, chunk.to_vec(), chunk.len() / self.dim, self.dim);
            out.extend(run(&self.body, &bound, xb, None).as_vec());
        }
        out
    }

    /// Fraction of `x` classified as `y`.
    pub fn accuracy(&self, x: &[f32], y: &[u8]) -> f64 {
        let f = self.features(x);
        let bound = self.params.bind::<f32>(&self.dev);
        let n = f.len() / FEATURES;
        let logits = run(&self.head, &bound, mat(&self.dev, f, n, FEATURES), None).as_vec();
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
        right as f64 / n.max(1) as f64
    }
}
