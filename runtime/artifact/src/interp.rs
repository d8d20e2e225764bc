//! The interpreter: every op an inference graph can hold, on one sample at a time,
//! reading the weights in place. Sums run in f64. Only graphs that passed
//! `View::check` reach here, so every index below is in range.

use crate::error::Error;
use crate::format::{ArchivedConv, ArchivedLatent, ArchivedLayer};
use crate::geometry::Geometry;
use crate::open::View;
use crate::sample::Rng;
use alloc::vec;
use alloc::vec::Vec;
use rkyv::rend::f32_le;

fn at(w: &[f32_le], i: usize) -> f64 {
    w[i].to_native() as f64
}

/// The geometry of one channel pair of `c`.
fn geometry(c: &ArchivedConv) -> Geometry {
    let two = |v: &[rkyv::rend::u32_le; 2]| [v[0].to_native() as usize, v[1].to_native() as usize];
    Geometry {
        channels: 1,
        big: two(&c.big),
        small: two(&c.small),
        kernel: two(&c.kernel),
        stride: two(&c.stride),
        padding: two(&c.padding),
        dilation: two(&c.dilation),
    }
}

/// Visits (tap, small index, big index) of one channel pair, in-range reads only,
/// taps and small points in order.
fn each(g: &Geometry, mut f: impl FnMut(usize, usize, usize)) {
    let (sw, bw, st) = (g.small[1], g.big[1], g.stride[1]);
    g.for_each_span(|tap, _, oh, ih, ws, iw0| {
        for (j, ow) in ws.enumerate() {
            f(tap, oh * sw + ow, ih * bw + iw0 + j * st);
        }
    });
}

impl View<'_> {
    fn bias(&self, b: Option<u32>, n: usize, plane: usize) -> Vec<f64> {
        let mut out = vec![0.0; n * plane];
        if let Some(b) = b {
            let b = self.tensor(b);
            for (i, o) in out.iter_mut().enumerate() {
                *o = at(b, i / plane);
            }
        }
        out
    }

    /// A convolution (reads the big grid, writes the small one) or its transpose (the
    /// other way round); weights are `[out, in·taps]` and `[in, out·taps]` respectively.
    fn conv(&self, c: &ArchivedConv, x: &[f32], transpose: bool) -> Vec<f32> {
        let g = geometry(c);
        let (cin, cout) = (
            c.channels_in.to_native() as usize,
            c.channels_out.to_native() as usize,
        );
        let (sp, bp) = (g.small[0] * g.small[1], g.big[0] * g.big[1]);
        let (xp, op) = if transpose { (sp, bp) } else { (bp, sp) };
        let taps = g.kernel[0] * g.kernel[1];
        let w = self.tensor(c.weight.to_native());
        let mut out = self.bias(c.bias.as_ref().map(|b| b.to_native()), cout, op);
        for co in 0..cout {
            for ci in 0..cin {
                let wb = if transpose {
                    ci * cout + co
                } else {
                    co * cin + ci
                } * taps;
                let (o, xi) = (&mut out[co * op..(co + 1) * op], &x[ci * xp..(ci + 1) * xp]);
                if transpose {
                    each(&g, |t, s, b| o[b] += at(w, wb + t) * xi[s] as f64);
                } else {
                    each(&g, |t, s, b| o[s] += at(w, wb + t) * xi[b] as f64);
                }
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }

    fn linear(
        &self,
        inputs: usize,
        outputs: usize,
        weight: u32,
        bias: Option<u32>,
        x: &[f32],
    ) -> Vec<f32> {
        let w = self.tensor(weight);
        let mut out = self.bias(bias, outputs, 1);
        for (i, &xi) in x.iter().enumerate().take(inputs) {
            let row = &w[i * outputs..(i + 1) * outputs];
            for (o, wv) in out.iter_mut().zip(row) {
                *o += xi as f64 * wv.to_native() as f64;
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }

    fn run(&self, layers: &[ArchivedLayer], mut x: Vec<f32>) -> Vec<f32> {
        for layer in layers {
            x = match layer {
                ArchivedLayer::Conv(c) => self.conv(c, &x, false),
                ArchivedLayer::ConvTranspose(c) => self.conv(c, &x, true),
                ArchivedLayer::Linear {
                    inputs,
                    outputs,
                    weight,
                    bias,
                } => self.linear(
                    inputs.to_native() as usize,
                    outputs.to_native() as usize,
                    weight.to_native(),
                    bias.as_ref().map(|b| b.to_native()),
                    &x,
                ),
                ArchivedLayer::Relu => x.into_iter().map(|v| v.max(0.0)).collect(),
                ArchivedLayer::Sigmoid => x
                    .into_iter()
                    .map(|v| 1.0 / (1.0 + libm::expf(-v)))
                    .collect(),
                ArchivedLayer::Tanh => x.into_iter().map(libm::tanhf).collect(),
                ArchivedLayer::LeakyRelu(s) => {
                    let s = s.to_native();
                    x.into_iter()
                        .map(|v| if v > 0.0 { v } else { s * v })
                        .collect()
                }
                ArchivedLayer::View => x,
            };
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

    /// Coefficients drawn from N(mean, cov) of the training coefficients.
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
