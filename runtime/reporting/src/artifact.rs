//! The trained model as an rrae artifact (`RUN_DIR/model.rra`): the inference graph,
//! the weights, U_f, the normalisation, the coefficient statistics and summaries,
//! in the format of the `rrae-artifact` crate, which other programs read.

use crate::eval::Metrics;
use nalgebra::DMatrix;
use rrae_artifact as art;
use rrae_engine::layer;
use rrae_train::data::params::Map;
use rrae_train::train::{Phase, Trainer};

/// Training samples kept in the artifact for demos and self-checks.
const EXAMPLES: usize = 8;

/// Mean and covariance (n − 1 in the denominator) of the rows of `c`.
fn stats(c: &DMatrix<f64>) -> (Vec<f64>, Vec<f64>) {
    let (n, k) = (c.nrows(), c.ncols());
    let mean: Vec<f64> = (0..k)
        .map(|j| c.column(j).sum() / n.max(1) as f64)
        .collect();
    let mut cov = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            let s: f64 = (0..n)
                .map(|r| (c[(r, i)] - mean[i]) * (c[(r, j)] - mean[j]))
                .sum();
            cov[i * k + j] = s / (n.max(2) - 1) as f64;
        }
    }
    (mean, cov)
}

/// What a finished run knows beyond the trainer.
pub struct Summary<'m> {
    pub source: &'m str,
    pub metrics: &'m Metrics,
    pub coefficients: &'m DMatrix<f64>,
    pub wall_seconds: f64,
}

pub fn build(t: &Trainer, s: &Summary) -> art::Artifact {
    let ir = &t.model.ir;
    let mut tensors: Vec<art::Tensor> = t
        .model
        .params
        .params
        .iter()
        .map(|p| art::Tensor {
            name: p.name.clone(),
            shape: p.shape.iter().map(|&d| d as u32).collect(),
            data: p.data.clone(),
        })
        .collect();
    let latent = match &t.basis {
        Some(b) => {
            tensors.push(art::Tensor {
                name: "latent.basis".into(),
                shape: vec![b.nrows() as u32, b.ncols() as u32],
                data: rrae_engine::linalg::to_rows(b)
                    .iter()
                    .map(|&v| v as f32)
                    .collect(),
            });
            art::Latent::Project {
                basis: (tensors.len() - 1) as u32,
            }
        }
        None => art::Latent::Identity,
    };
    // A variational model samples its prior N(0, I) unless its eval block says
    // otherwise, as the report did: the artifact's sampler draws `mean + chol(cov)·ε`,
    // which with these is ε itself.
    let (coefficient_mean, coefficient_cov) = if ir.eval.sample_prior {
        let k = s.coefficients.ncols();
        let eye = (0..k * k).map(|i| if i % (k + 1) == 0 { 1.0 } else { 0.0 });
        (vec![0.0; k], eye.collect())
    } else {
        stats(s.coefficients)
    };
    let d = t.data;
    let norm = d.norm;
    let examples = d.train[..(EXAMPLES.min(d.n_train()) * d.dim)]
        .iter()
        .map(|&v| norm.invert(v as f64) as f32)
        .collect();
    // The reduced-order path, where the data has parameters: each training grid
    // point's coefficients in the grid's flat order, or the radial basis function of
    // the coefficients over scattered parameters.
    let k = s.coefficients.ncols();
    let parameters = d.params.as_ref().and_then(|p| match &p.map {
        Map::Grid(g) => Some(art::ParamMap::Grid(art::ParamGrid {
            axes: g.axes().to_vec(),
            coefficients: g
                .samples()
                .iter()
                .flat_map(|&i| (0..k).map(move |j| s.coefficients[(i, j)] as f32))
                .collect(),
        })),
        Map::Scattered(sc) => {
            let values: Vec<f64> = (0..sc.len())
                .flat_map(|i| (0..k).map(move |j| s.coefficients[(i, j)]))
                .collect();
            // The scatter was fitted when the data loaded; a fit that fails now leaves
            // the artifact without a reduced-order path rather than failing the run.
            sc.fit(&values, k).ok().map(|fit| {
                art::ParamMap::Scattered(art::ParamRbf {
                    lo: sc.lo.clone(),
                    hi: sc.hi.clone(),
                    centres: sc.centres.clone(),
                    weights: fit.weights,
                    linear: fit.linear,
                })
            })
        }
    });
    let steps = |p: Phase| t.log.iter().filter(|l| l.phase == p).count() as u64;
    art::Artifact {
        name: ir.name.clone(),
        source: s.source.to_string(),
        source_hash: art::source_hash(s.source),
        ir: ir.to_string(),
        input: d.sample.iter().map(|&v| v as u32).collect(),
        latent_dim: t.model.latent_dim() as u32,
        encoder: layer::artifact(&t.model.inference_encoder, &t.model.params),
        latent,
        decoder: layer::artifact(&t.model.decoder, &t.model.params),
        tensors,
        norm: art::Norm {
            shift: norm.shift,
            scale: norm.scale,
        },
        coefficient_mean,
        coefficient_cov,
        examples,
        dataset: art::DatasetSummary {
            name: d.name.clone(),
            train_samples: d.n_train() as u64,
            test_samples: d.n_test() as u64,
        },
        training: art::TrainingSummary {
            seed: ir.train.seed,
            train_steps: steps(Phase::Train),
            fine_tune_steps: steps(Phase::FineTune),
            k: t.model
                .latent
                .rank()
                .or_else(|| t.basis.as_ref().map(|b| b.ncols()))
                .map(|k| k as u32),
            train_error: s.metrics.train_error,
            test_error: s.metrics.test_error,
            interpolation_error: s.metrics.interpolation_error,
            wall_seconds: s.wall_seconds,
        },
        parameters,
    }
}

/// The artifact file's bytes.
pub fn to_bytes(a: &art::Artifact) -> rrae_train::Result<Vec<u8>> {
    art::encode_file(a).map_err(|e| rrae_train::TrainError::Stage {
        stage: "artifact",
        reason: e.to_string(),
    })
}

/// The artifact of a run in progress, for checkpoints: `None` while an RRAE is still in
/// its training phase (its inference form needs U_f, which exists from fine-tuning on).
/// Errors are NaN: nothing has been evaluated yet.
pub fn interim(t: &Trainer) -> Option<Vec<u8>> {
    if t.model.latent.rank().is_some() && t.basis.is_none() {
        return None;
    }
    let l = t.model.latent_dim();
    // An encoder that cannot run leaves the checkpoint without its artifact; the next
    // checkpoint or the end of the run writes one.
    let y = t.encode_all(&t.data.train).ok()?;
    let basis = t.basis.clone().unwrap_or_else(|| DMatrix::identity(l, l));
    let c = rrae_train::train::coefficients(&y, l, &basis);
    let metrics = Metrics {
        train_error: f64::NAN,
        test_error: f64::NAN,
        ..Metrics::default()
    };
    let summary = Summary {
        source: &t.source,
        metrics: &metrics,
        coefficients: &c,
        wall_seconds: f64::NAN,
    };
    art::encode_file(&build(t, &summary)).ok()
}
