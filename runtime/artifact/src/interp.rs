//! The interpreter: an inference graph on one sample at a time, reading the weights in
//! place (each layer's arithmetic is in `layer.rs`). Sums run in f64. Only graphs that
//! passed `View::check` reach here, so every index below is in range.

use crate::error::Error;
use crate::format::ArchivedLatent;
use crate::layer::ArchivedLayer;
use crate::open::View;
use crate::sample::Rng;
use alloc::vec::Vec;
use rkyv::rend::f32_le;

fn at(w: &[f32_le], i: usize) -> f64 {
    w[i].to_native() as f64
}

impl View<'_> {
    fn run(&self, layers: &[ArchivedLayer], mut x: Vec<f32>) -> Vec<f32> {
        for layer in layers {
            x = layer.apply(&|t| Some(self.tensor(t)), x);
        }
        x
    }

    fn check_len(op: &'static str, expected: usize, got: &[f32]) -> Result<(), Error> {
        if got.len() == expected {
            Ok(())
        } else {
            Err(Error::Input {
                op,
                expected,
                got: got.len(),
            })
        }
    }

    /// The encoder's output y (length L) for one sample in original units.
    pub fn latent(&self, x: &[f32]) -> Result<Vec<f32>, Error> {
        Self::check_len("encode", self.input_len(), x)?;
        let (shift, scale) = (self.a.norm.shift.to_native(), self.a.norm.scale.to_native());
        let xn = x
            .iter()
            .map(|&v| ((v as f64 - shift) / scale) as f32)
            .collect();
        Ok(self.run(&self.a.encoder, xn))
    }

    /// Bottleneck coefficients α (length k): `U_fᵀ y`, or y itself without a basis.
    pub fn encode(&self, x: &[f32]) -> Result<Vec<f32>, Error> {
        let y = self.latent(x)?;
        Ok(match &self.a.latent {
            ArchivedLatent::Identity => y,
            ArchivedLatent::Project { basis } => {
                let (u, k) = (self.tensor(basis.to_native()), self.k());
                (0..k)
                    .map(|j| {
                        y.iter()
                            .enumerate()
                            .map(|(i, &v)| v as f64 * at(u, i * k + j))
                            .sum::<f64>() as f32
                    })
                    .collect()
            }
        })
    }

    /// A sample (original units) from coefficients α: `U_f α` through the decoder.
    pub fn decode(&self, alpha: &[f32]) -> Result<Vec<f32>, Error> {
        let (k, l) = (self.k(), self.latent_dim());
        Self::check_len("decode", k, alpha)?;
        let z = match &self.a.latent {
            ArchivedLatent::Identity => alpha.to_vec(),
            ArchivedLatent::Project { basis } => {
                let u = self.tensor(basis.to_native());
                (0..l)
                    .map(|i| {
                        (0..k)
                            .map(|j| at(u, i * k + j) * alpha[j] as f64)
                            .sum::<f64>() as f32
                    })
                    .collect()
            }
        };
        let out = self.run(&self.a.decoder, z);
        let (shift, scale) = (self.a.norm.shift.to_native(), self.a.norm.scale.to_native());
        Ok(out
            .into_iter()
            .map(|v| (v as f64 * scale + shift) as f32)
            .collect())
    }

    /// `decode(encode(x))`.
    pub fn reconstruct(&self, x: &[f32]) -> Result<Vec<f32>, Error> {
        self.decode(&self.encode(x)?)
    }

    /// `points` samples between `a` and `b`, linear in the coefficients (ends excluded).
    pub fn interpolate(&self, a: &[f32], b: &[f32], points: usize) -> Result<Vec<Vec<f32>>, Error> {
        let (ca, cb) = (self.encode(a)?, self.encode(b)?);
        (1..=points)
            .map(|i| {
                let t = i as f32 / (points + 1) as f32;
                let c: Vec<f32> = ca
                    .iter()
                    .zip(&cb)
                    .map(|(x, y)| (1.0 - t) * x + t * y)
                    .collect();
                self.decode(&c)
            })
            .collect()
    }

    /// Coefficients drawn from the artifact's N(mean, cov): that of the training
    /// coefficients, or the prior N(0, I) where the model sampled its prior.
    pub fn sample_coefficients(&self, rng: &mut Rng) -> Vec<f32> {
        let k = self.k();
        let mean: Vec<f64> = self
            .a
            .coefficient_mean
            .iter()
            .map(|v| v.to_native())
            .collect();
        let cov: Vec<f64> = self
            .a
            .coefficient_cov
            .iter()
            .map(|v| v.to_native())
            .collect();
        let l = crate::sample::cholesky(&cov, k);
        let z: Vec<f64> = (0..k).map(|_| rng.normal()).collect();
        (0..k)
            .map(|i| (mean[i] + (0..=i).map(|j| l[i * k + j] * z[j]).sum::<f64>()) as f32)
            .collect()
    }

    /// `n` random samples decoded from [`View::sample_coefficients`].
    pub fn sample(&self, n: usize, rng: &mut Rng) -> Result<Vec<Vec<f32>>, Error> {
        (0..n)
            .map(|_| self.decode(&self.sample_coefficients(rng)))
            .collect()
    }
}
