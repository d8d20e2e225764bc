//! The paper's evaluation: relative L2 errors on train and test (original units),
//! interpolation in the bottleneck coefficients, random sampling from a normal fitted
//! to the training coefficients, the bump-fit error of generated samples, and the
//! normalised singular values of the latent matrices.

use crate::error::Result;
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rrae_engine::linalg::{from_rows, svd};
use rrae_lang::ir::EvalIr;
use rrae_train::data::Dataset;
use rrae_train::train::{coefficients, Trainer};

/// The middle value (the upper one of an even count); 0 for none.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
    /// Robust to the few samples drawn far outside the training coefficients.
    pub median: f64,
}

impl MeanStd {
    pub fn of(v: &[f64]) -> MeanStd {
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        MeanStd {
            mean,
            std: var.sqrt(),
            median: crate::eval::median(v.to_vec()),
        }
    }
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Metrics {
    /// `100·‖X̂ − X‖/‖X‖` over the training set, original units.
    pub train_error: f64,
    pub test_error: f64,
    /// The same errors in the model's normalised units (the authors' library prints
    /// both; with standardised bumps these are smaller, the background is not zero).
    pub train_error_normalised: f64,
    pub test_error_normalised: f64,
    pub interpolation_error_normalised: Option<f64>,
    /// Against the true bump at the interpolated centre (bump data only).
    pub interpolation_error: Option<f64>,
    /// The same, per interpolated sample: mean ± std.
    pub interpolation_per_sample: Option<MeanStd>,
    /// Best-fitting bump error of each interpolated sample (bump data only): the
    /// paper's Table 1 measure for generated samples, which have no ground truth.
    /// Unlike the two above it does not ask the bump to sit at the linearly
    /// interpolated centre, only to be a bump of the data's σ and height.
    pub interpolation_bump_fit: Option<MeanStd>,
    /// The authors' library's `AE_interpolate` on the test set (data with parameters:
    /// `params_train`/`params_test`, or the bump centres): each test sample's latent is
    /// interpolated multilinearly over the training parameter grid from the training
    /// latents and decoded; the encoder never sees the test set.
    pub test_error_parametric: Option<f64>,
    pub test_error_parametric_normalised: Option<f64>,
    /// Best-fitting bump error of each random sample (bump data only).
    pub sampling_bump_fit: Option<MeanStd>,
    /// Bump-fit error of the training reconstructions, the floor for the above.
    pub train_bump_fit: Option<MeanStd>,
    /// Singular values of the encoder outputs Y (training set), over the largest.
    pub singular_values_encoder: Vec<f64>,
    /// Singular values of the latent the decoder sees at inference, over the largest.
    pub singular_values_latent: Vec<f64>,
    /// Normalised singular values above 1e-6 in the decoder's latent.
    pub latent_rank: usize,
    pub interpolation_pairs: usize,
    pub random_samples: usize,
    /// "FID, local classifier features" (labelled image data only): Fréchet distances
    /// between the features of real test images and of the test reconstructions,
    /// the interpolated images and the random samples; the classifier's test accuracy.
    pub fid_reconstruction: Option<f64>,
    pub fid_interpolation: Option<f64>,
    pub fid_sampling: Option<f64>,
    pub classifier_accuracy: Option<f64>,
    /// The standard FID (Inception-v3 pool features; built with the `inception` feature
    /// and `RRAE_INCEPTION` set, image data only): the real test images against the
    /// test reconstructions, the interpolated images and the random samples.
    pub fid_inception_reconstruction: Option<f64>,
    pub fid_inception_interpolation: Option<f64>,
    pub fid_inception_sampling: Option<f64>,
    /// How many real test images the standard FID's reference statistics used.
    pub fid_inception_real_images: Option<usize>,
}

/// Classifier training steps behind the FID-style scores (batches of 64).
pub const CLASSIFIER_STEPS: usize = 1500;

/// Images kept for the plots (original units, row per image).
#[derive(Default)]
pub struct Gallery {
    pub originals: Vec<f64>,
    pub reconstructions: Vec<f64>,
    /// `pairs × (points + 2)` images: endpoints included.
    pub interpolations: Vec<f64>,
    pub interpolation_cols: usize,
    pub samples: Vec<f64>,
    /// Where `samples` were drawn (`EvalIr::sampled_from`), for the figure's title.
    pub sampled_from: &'static str,
    /// Test samples (`parametric_index`) decoded from parameter-interpolated latents.
    pub parametric: Vec<f64>,
    pub parametric_index: Vec<usize>,
    /// Encoder outputs of the training set (n × L) and their coefficients (n × k).
    pub latents: Vec<f32>,
    pub coefficients: DMatrix<f64>,
    /// Every image the metrics were computed on, for `--save-images`.
    pub sets: Sets,
}

/// The four sets the errors and FIDs compare, whole, in original units (rows of the
/// sample's shape): what `--save-images` writes for metrics computed elsewhere.
#[derive(Default)]
pub struct Sets {
    /// The real test set.
    pub test: Vec<f64>,
    /// Its reconstructions through the inference form.
    pub reconstructions: Vec<f64>,
    /// The interpolated images, endpoints excluded: `pairs × points`.
    pub interpolations: Vec<f64>,
    /// The random samples.
    pub samples: Vec<f64>,
}

impl Sets {
    /// `(file stem, rows)` in the order they are written.
    pub fn named(&self) -> [(&'static str, &[f64]); 4] {
        [
            ("test", &self.test),
            ("reconstructions", &self.reconstructions),
            ("interpolations", &self.interpolations),
            ("samples", &self.samples),
        ]
    }
}

pub struct Evaluator<'t, 'a> {
    pub t: &'t Trainer<'a>,
    pub cfg: EvalIr,
}

fn rel_error(pred: &[f64], truth: &[f64]) -> f64 {
    let num: f64 = pred.iter().zip(truth).map(|(a, b)| (a - b).powi(2)).sum();
    let den: f64 = truth.iter().map(|b| b * b).sum();
    100.0 * (num / den.max(1e-300)).sqrt()
}

/// Relative error after mapping both sides into normalised units.
fn rel_error_in(norm: rrae_train::data::Norm, pred: &[f64], truth: &[f64]) -> f64 {
    let f = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| (x - norm.shift) / norm.scale).collect() };
    rel_error(&f(pred), &f(truth))
}

fn normalised(s: &[f64]) -> Vec<f64> {
    let s0 = s.first().copied().unwrap_or(0.0);
    s.iter()
        .map(|v| if s0 > 0.0 { v / s0 } else { 0.0 })
        .collect()
}

impl<'t, 'a> Evaluator<'t, 'a> {
    fn data(&self) -> &Dataset {
        self.t.data
    }

    /// Reconstructions (original units) of samples given in model units, through the
    /// inference form: encoder, U_f U_fᵀ (if any), decoder.
    pub fn reconstruct(&self, rows: &[f32]) -> Result<Vec<f64>> {
        let y = self.t.encode_all(rows)?;
        self.decode(&self.t.inference_latents(y)?)
    }

    /// The FID-style scores, for grey or colour images with labels: a classifier is
    /// trained on the training split (model units), and real test images are compared
    /// with the generated ones (given in original units) in its feature space.
    fn fid(
        &self,
        m: &mut Metrics,
        seed: u64,
        rec: &[f64],
        interp: &[f64],
        samples: &[f64],
    ) -> Result<()> {
        let d = self.data();
        let (Some(labels), [c @ (1 | 3), h, w]) = (&d.labels, d.sample.as_slice()) else {
            return Ok(());
        };
        if d.n_test() < 2 {
            return Ok(());
        }
        let classes = labels.train.iter().copied().max().unwrap_or(0) as usize + 1;
        let mut c = crate::classifier::Classifier::new(*c, *h, *w, classes, seed ^ 0xf1d);
        c.train(&d.train, &labels.train, CLASSIFIER_STEPS, seed ^ 0xf1d)?;
        m.classifier_accuracy = Some(c.accuracy(&d.test, &labels.test)?);
        let real = c.features(&d.test)?;
        let model_units = |x: &[f64]| -> Vec<f32> {
            x.iter()
                .map(|&v| ((v - d.norm.shift) / d.norm.scale) as f32)
                .collect()
        };
        let score = |x: &[f64]| -> Result<Option<f64>> {
            if x.len() / d.dim < 2 {
                return Ok(None);
            }
            let f = c.features(&model_units(x))?;
            Ok(Some(crate::fid::frechet(
                &real,
                &f,
                crate::classifier::FEATURES,
            )))
        };
        m.fid_reconstruction = score(rec)?;
        m.fid_interpolation = score(interp)?;
        m.fid_sampling = score(samples)?;
        Ok(())
    }

    /// The standard FID of each generated set against the real test images, when this
    /// build has the Inception network and `RRAE_INCEPTION` names its file.
    #[cfg(feature = "inception")]
    fn standard_fid(
        &self,
        m: &mut Metrics,
        real_rows: &[f64],
        rec: &[f64],
        interp: &[f64],
        samples: &[f64],
    ) -> Result<()> {
        let d = self.data();
        let [c @ (1 | 3), h, w] = d.sample[..] else {
            return Ok(());
        };
        use crate::inception::Images;
        let Some(net) = crate::inception::from_env()? else {
            return Ok(());
        };
        // The training set's extremes are black and white (0 and 255 for image files).
        // The extremes in model units, mapped back (normalisation is increasing): no
        // copy of the training set in original units.
        let lo = d.train.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = d.train.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let (lo, hi) = (d.norm.invert(lo as f64), d.norm.invert(hi as f64));
        let shape = [c, h, w];
        if d.n_test() < 2 {
            return Ok(());
        }
        let real = net.real_stats(&Images::new(real_rows, shape, (lo, hi)))?;
        let score = |x: &[f64]| -> Result<Option<f64>> {
            if x.len() / d.dim < 2 {
                return Ok(None);
            }
            let f = net.features(&Images::new(x, shape, (lo, hi)))?;
            let f = crate::fid::Stats::of(&f, crate::inception::FEATURES);
            Ok(Some(crate::fid::frechet_of(&real, &f)))
        };
        m.fid_inception_reconstruction = score(rec)?;
        m.fid_inception_interpolation = score(interp)?;
        m.fid_inception_sampling = score(samples)?;
        m.fid_inception_real_images = Some(d.n_test());
        Ok(())
    }

    #[cfg(not(feature = "inception"))]
    fn standard_fid(
        &self,
        _: &mut Metrics,
        _: &[f64],
        _: &[f64],
        _: &[f64],
        _: &[f64],
    ) -> Result<()> {
        Ok(())
    }

    /// Decodes latents (row per sample) to original units.
    pub fn decode(&self, z: &[f32]) -> Result<Vec<f64>> {
        let norm = self.data().norm;
        let out = self.t.decode_all(z)?;
        Ok(out.into_iter().map(|v| norm.invert(v as f64)).collect())
    }

    fn original(&self, x: &[f32]) -> Vec<f64> {
        let norm = self.data().norm;
        x.iter().map(|&v| norm.invert(v as f64)).collect()
    }

    /// The basis the coefficients live in: U_f, or the identity for bases-free models.
    fn basis(&self) -> DMatrix<f64> {
        let l = self.t.model.latent_dim();
        self.t
            .basis
            .clone()
            .unwrap_or_else(|| DMatrix::identity(l, l))
    }

    /// Decodes latents linear in the coefficients between random training pairs:
    /// the interpolation error against the true bumps, and the gallery's rows.
    fn interpolate(
        &self,
        coeff: &DMatrix<f64>,
        basis: &DMatrix<f64>,
        rng: &mut rand::rngs::StdRng,
        m: &mut Metrics,
        g: &mut Gallery,
    ) -> Result<Vec<f64>> {
        let (d, dim, n) = (self.data(), self.data().dim, coeff.nrows());
        let (pairs, points) = (self.cfg.interpolation_pairs, self.cfg.interpolation_points);
        if n < 2 || pairs == 0 {
            return Ok(vec![]);
        }
        let mut lat = vec![];
        let mut truth = vec![];
        let mut shown = vec![];
        for p in 0..pairs {
            let a = rng.gen_range(0..n);
            let mut b = rng.gen_range(0..n - 1);
            if b >= a {
                b += 1;
            }
            for i in 0..points + 2 {
                let t = i as f64 / (points + 1) as f64;
                let c = coeff.row(a) * (1.0 - t) + coeff.row(b) * t;
                let z = basis * c.transpose();
                let row: Vec<f32> = z.iter().map(|&v| v as f32).collect();
                let inner = i > 0 && i <= points;
                if inner {
                    lat.extend_from_slice(&row);
                    if let Some(bm) = &d.bumps {
                        let (ca, cb) = (bm.train_centres[a], bm.train_centres[b]);
                        truth.extend(bm.render([
                            ca[0] * (1.0 - t) + cb[0] * t,
                            ca[1] * (1.0 - t) + cb[1] * t,
                        ]));
                    }
                }
                if p < 6 {
                    shown.extend_from_slice(&row);
                }
            }
        }
        let pred = self.decode(&lat)?;
        if d.bumps.is_some() {
            m.interpolation_error = Some(rel_error(&pred, &truth));
            let each: Vec<f64> = pred
                .chunks(dim)
                .zip(truth.chunks(dim))
                .map(|(p, t)| rel_error(p, t))
                .collect();
            m.interpolation_per_sample = Some(MeanStd::of(&each));
            if let Some(bm) = &d.bumps {
                let fits: Vec<f64> = pred.chunks(dim).map(|s| bm.best_fit(s).1).collect();
                m.interpolation_bump_fit = Some(MeanStd::of(&fits));
            }
            m.interpolation_error_normalised = Some(rel_error_in(d.norm, &pred, &truth));
        }
        g.interpolations = self.decode(&shown)?;
        g.interpolation_cols = points + 2;
        m.interpolation_pairs = pairs;
        Ok(pred)
    }

    /// Decodes samples from N(mean, cov) of the training coefficients, or from the prior
    /// N(0, I) where the eval block's `sample_prior` is on (the bump fit
    /// of samples and of training reconstructions `rec_train` for comparison).
    fn sample(
        &self,
        coeff: &DMatrix<f64>,
        basis: &DMatrix<f64>,
        rng: &mut rand::rngs::StdRng,
        rec_train: &[f64],
        m: &mut Metrics,
        g: &mut Gallery,
    ) -> Result<Vec<f64>> {
        let (d, dim, n, l) = (self.data(), self.data().dim, coeff.nrows(), basis.nrows());
        let k = coeff.ncols();
        let count = self.cfg.random_samples;
        if count == 0 || n <= 1 {
            return Ok(vec![]);
        }
        // A variational model samples its prior N(0, I) (unless `sample_prior = false`);
        // the others a Gaussian fitted to the training coefficients.
        let (mean, chol) = if self.t.model.ir.eval.sample_prior {
            (DVector::zeros(k), DMatrix::identity(k, k))
        } else {
            let mean = DVector::from_fn(k, |j, _| coeff.column(j).mean());
            let centred = DMatrix::from_fn(n, k, |i, j| coeff[(i, j)] - mean[j]);
            let cov = centred.transpose() * &centred / (n as f64 - 1.0);
            (mean, cholesky_jittered(&cov))
        };
        let mut lat = Vec::with_capacity(count * l);
        for _ in 0..count {
            let e = DVector::from_fn(k, |_, _| StandardNormal.sample(rng));
            let c = &mean + &chol * e;
            lat.extend((basis * c).iter().map(|&v| v as f32));
        }
        let samples = self.decode(&lat)?;
        if let Some(bm) = &d.bumps {
            let fits: Vec<f64> = samples.chunks(dim).map(|s| bm.best_fit(s).1).collect();
            m.sampling_bump_fit = Some(MeanStd::of(&fits));
            let floor: Vec<f64> = rec_train
                .chunks(dim)
                .take(count)
                .map(|s| bm.best_fit(s).1)
                .collect();
            m.train_bump_fit = Some(MeanStd::of(&floor));
        }
        g.samples = samples[..count.min(32) * dim].to_vec();
        g.sampled_from = self.t.model.ir.eval.sampled_from();
        m.random_samples = count;
        Ok(samples)
    }

    pub fn run(&self, seed: u64) -> Result<(Metrics, Gallery)> {
        let d = self.data();
        let (l, dim) = (self.t.model.latent_dim(), d.dim);
        let mut m = Metrics::default();
        let mut g = Gallery::default();
        let y_train = self.t.encode_all(&d.train)?;
        let z_train = self.t.inference_latents(y_train.clone())?;
        let rec_train = self.decode(&z_train)?;
        let x_train = self.original(&d.train);
        m.train_error = rel_error(&rec_train, &x_train);
        m.train_error_normalised = rel_error_in(d.norm, &rec_train, &x_train);
        // The test set in original units, made once: the test errors, the parametric
        // error, the standard FID and `--save-images` all read it.
        let x_test = self.original(&d.test);
        let mut rec_test = vec![];
        if d.n_test() > 0 {
            let z_test = self.t.inference_latents(self.t.encode_all(&d.test)?)?;
            let pred = self.decode(&z_test)?;
            m.test_error = rel_error(&pred, &x_test);
            m.test_error_normalised = rel_error_in(d.norm, &pred, &x_test);
            rec_test = pred;
        }
        let n = d.n_train();
        let sv = |v: &[f32]| {
            normalised(
                &svd(&from_rows(
                    &v.iter().map(|&x| x as f64).collect::<Vec<_>>(),
                    n,
                    l,
                ))
                .s,
            )
        };
        m.singular_values_encoder = sv(&y_train);
        m.singular_values_latent = sv(&z_train);
        m.latent_rank = m
            .singular_values_latent
            .iter()
            .filter(|&&s| s > 1e-6)
            .count();
        let show = n.min(8);
        g.originals = x_train[..show * dim].to_vec();
        g.reconstructions = rec_train[..show * dim].to_vec();

        if let (Some(p), true) = (&d.params, d.n_test() > 0) {
            let pred = self.decode(&p.test_latents(&z_train, l))?;
            m.test_error_parametric = Some(rel_error(&pred, &x_test));
            m.test_error_parametric_normalised = Some(rel_error_in(d.norm, &pred, &x_test));
            // Four test samples spread over the set (the centres of four equal parts).
            let n = d.n_test();
            g.parametric_index = (0..n.min(4))
                .map(|i| (2 * i + 1) * n / (2 * n.min(4)))
                .collect();
            g.parametric = g
                .parametric_index
                .iter()
                .flat_map(|&i| pred[i * dim..(i + 1) * dim].iter().copied())
                .collect();
        }
        let basis = self.basis();
        let coeff = coefficients(&y_train, l, &basis); // n × k
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0xe7a1);
        // Interpolation first, then sampling: both draw from `rng`, in that order.
        let interpolated = self.interpolate(&coeff, &basis, &mut rng, &mut m, &mut g)?;
        let samples = self.sample(&coeff, &basis, &mut rng, &rec_train, &mut m, &mut g)?;
        self.fid(&mut m, seed, &rec_test, &interpolated, &samples)?;
        self.standard_fid(&mut m, &x_test, &rec_test, &interpolated, &samples)?;
        g.latents = y_train;
        g.coefficients = coeff;
        g.sets = Sets {
            test: x_test,
            reconstructions: rec_test,
            interpolations: interpolated,
            samples,
        };
        Ok((m, g))
    }
}

/// Lower Cholesky factor of a covariance, adding jitter to the diagonal until it is
/// positive definite (a rank-deficient covariance is common for long latents).
fn cholesky_jittered(cov: &DMatrix<f64>) -> DMatrix<f64> {
    let scale = cov.diagonal().max().max(1e-12);
    let mut jitter = 0.0;
    for _ in 0..12 {
        let c = cov + DMatrix::identity(cov.nrows(), cov.ncols()) * jitter;
        if let Some(ch) = c.cholesky() {
            return ch.l();
        }
        jitter = if jitter == 0.0 {
            scale * 1e-10
        } else {
            jitter * 10.0
        };
    }
    DMatrix::zeros(cov.nrows(), cov.ncols())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_singular_values_are_normalised() {
        assert!((rel_error(&[1.0, 1.0], &[1.0, 0.0]) - 100.0).abs() < 1e-12);
        assert_eq!(normalised(&[4.0, 2.0, 0.0]), vec![1.0, 0.5, 0.0]);
        let cov = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        let l = cholesky_jittered(&cov);
        assert!(((&l * l.transpose()) - cov).abs().max() < 1e-6);
        assert_eq!(rrae_engine::linalg::to_rows(&l).len(), 4);
    }
}
