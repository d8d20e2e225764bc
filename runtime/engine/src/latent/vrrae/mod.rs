//! `vrrae(k, beta)` in training. The batch's truncated SVD is taken apart rather than
//! applied: with `y` the batch's latents (rows are samples, `Yᵀ`) and `Y = U S Vᵀ`,
//! the coefficients `C = y U_k` (= `V_k S_k`) are the Gaussian's mean, `log σ²` a
//! linear map of them, and the decoder reads `(C + ε ⊙ σ) U_kᵀ`; at ε = 0 that is the
//! RRAE's `Y_kᵀ`. Unlike `svd_truncate`, whose output depends on the subspace only, the
//! sample depends on the basis vectors themselves, so the gradient also flows through
//! `U_k` ([`crate::truncation::Truncation::basis_backward`]), as the library's
//! autodiff through its `stable_SVD` does.
//!
//! Where the rank moves (adaptive, annealed, descended), `C` and `U_kᵀ` are as wide as
//! the largest rank with zeros past k, and the KL counts the first k columns: the
//! log-variance map's leading k × k block is the one in use.
//!
//! With `mean = trainable` the Gaussian's mean is a second linear map of `C`, as the
//! library's `typ = "trainable"` has it. At inference the library applies that map to
//! the coefficients on U_f (`apply_basis`); rrae folds it with U_f into one L × L layer
//! after the encoder (`A = U_f W_k U_fᵀ`, `c = U_f b_k`), so that projecting on U_f
//! afterwards gives the mapped mean's coefficients, and the artifact, Python and the
//! microcontroller run it as the linear layer they already know.

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use super::vae::{sample, square_map};
use super::{BasisSource, LatentForm, LatentKernels, LowerCx, Sharding};
use crate::device::Device;
use crate::error::Result;
use crate::layer::linear::Dense;
use crate::layer::{Layer, Lowered};
use crate::ops::gaussian::{kl, GaussianKernel};
use crate::ops::linear::{linear, BiasKernel};
use crate::ops::matmul::matmul;
use crate::params::ParamSet;
use crate::tape::{timing, Tape, TapeKernel, Var};
use crate::tensor::Real;
use crate::truncation::Truncation;
use nalgebra::{DMatrix, DVector};
use rrae_lang::latent::vrrae::Vrrae;
use std::sync::Arc;

/// The coefficients and the basis of a batch's truncated SVD, on a device.
pub trait CoefficientsKernel<E: Real>: Device {
    /// `C = y U_k` (`batch × width`) and `U_kᵀ` (`width × L`), zero past the kept rank,
    /// for `y` (`batch × L`); and the truncation, for the backward.
    fn coefficients_forward(
        &self,
        y: &Self::Buf<E>,
        batch: usize,
        l: usize,
        k: usize,
        width: usize,
    ) -> (Self::Buf<E>, Self::Buf<E>, Truncation);

    /// `∂ℓ/∂y` from `g = ∂ℓ/∂C`: `g U_kᵀ`, and `yᵀ g` through the basis.
    fn coefficients_backward(
        &self,
        t: &Truncation,
        y: &Self::Buf<E>,
        g: &Self::Buf<E>,
        width: usize,
    ) -> Self::Buf<E>;

    /// `∂ℓ/∂y` from `g = ∂ℓ/∂U_kᵀ` (`width × L`), through the basis.
    fn basis_backward(&self, t: &Truncation, g: &Self::Buf<E>, width: usize) -> Self::Buf<E>;
}

/// What the training form needs of a device (part of `Backend`).
pub trait Kernel<E: Real>: CoefficientsKernel<E> + GaussianKernel<E> + BiasKernel<E> {}

impl<E: Real, D: CoefficientsKernel<E> + GaussianKernel<E> + BiasKernel<E>> Kernel<E> for D {}

/// `(C, U_kᵀ)` of `y` (`batch × L`) at rank `k`, each `width` wide, on the tape.
pub fn coefficients<D: CoefficientsKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    y: Var,
    k: usize,
    width: usize,
) -> (Var, Var) {
    let (batch, l) = y.shape();
    let (c, ut, t) = tape
        .dev()
        .coefficients_forward(tape.value(y), batch, l, k, width);
    let c = tape.output(c, batch, width, &[y]);
    let ut = tape.output(ut, width, l, &[y]);
    let t = Arc::new(t);
    if tape.wants(c) {
        let t = t.clone();
        tape.on_backward(c, move |pass| {
            if let Some(g) = pass.take_grad(c) {
                let dy = timing::timed(
                    || "vrrae coefficients backward".into(),
                    || {
                        pass.dev()
                            .coefficients_backward(&t, pass.value(y), &g, width)
                    },
                );
                pass.add_grad(y, dy);
            }
            Ok(())
        });
    }
    tape.on_backward(ut, move |pass| {
        if let Some(g) = pass.take_grad(ut) {
            let dy = timing::timed(
                || "vrrae basis backward".into(),
                || pass.dev().basis_backward(&t, &g, width),
            );
            pass.add_grad(y, dy);
        }
        Ok(())
    });
    (c, ut)
}

/// The current rank, the maps' width, β and the maps: log-variance, and with
/// `mean = trainable` the mean and the inference layer it is folded into.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub k: usize,
    pub width: usize,
    pub beta: f64,
    pub logvar: Dense,
    pub mean: Option<Dense>,
    pub folded: Option<Dense>,
    /// The latent node, which the inference layer is labelled with.
    pub node: usize,
}

/// `(C D, D U_kᵀ)` with `D = diag(±1)` chosen so that each column of `C D` sums to
/// ≥ 0 over the batch: the SVD fixes each basis vector only up to sign, so without an
/// orientation a coordinate's sign is arbitrary from batch to batch, which a diagonal
/// (identity) mean does not notice and a trained k → k map does. `U_k (C)` is unchanged;
/// `D` is a constant of the step (a sign does not vary with y almost everywhere).
fn oriented<D: LatentKernels<E>, E: Real>(
    tape: &mut Tape<D, E>,
    c: Var,
    ut: Var,
) -> Result<(Var, Var)> {
    let (rows, width) = c.shape();
    let values = tape.dev().download(tape.value(c));
    let mut d = vec![E::zero(); width * width];
    for j in 0..width {
        let sum: f64 = (0..rows).map(|i| values[i * width + j].f64()).sum();
        d[j * width + j] = E::of(if sum < 0.0 { -1.0 } else { 1.0 });
    }
    let d = tape.constant(tape.dev().upload(&d), width, width);
    Ok((matmul(tape, c, d)?, matmul(tape, d, ut)?))
}

/// U_f oriented as [`oriented`] orients a batch's basis, over the training latents `y`
/// (`n × L`, rows are samples): each column flipped where the training coefficients on
/// it sum to less than 0. The fold reads the mean map in these coordinates.
fn orient_basis(basis: &DMatrix<f64>, y: &[f32]) -> DMatrix<f64> {
    let l = basis.nrows();
    let mut sum = DVector::<f64>::zeros(l);
    for row in y.chunks_exact(l.max(1)) {
        for (s, &v) in sum.iter_mut().zip(row) {
            *s += f64::from(v);
        }
    }
    let mut out = basis.clone();
    for (j, mut col) in out.column_iter_mut().enumerate() {
        if basis.column(j).dot(&sum) < 0.0 {
            col.neg_mut();
        }
    }
    out
}

/// The L × L layer `y ↦ y A + c` (weight `[in, out]`) that U_f and the mean map fold
/// into: `A = U W_k Uᵀ` and `c = U b_k`, with `W_k`, `b_k` the map's leading block for
/// U's k columns; the identity without a basis.
fn folded(
    basis: Option<&DMatrix<f64>>,
    l: usize,
    w: &[f32],
    b: &[f32],
    width: usize,
) -> (Vec<f32>, Vec<f32>) {
    let Some(u) = basis else {
        return (
            DMatrix::<f32>::identity(l, l).as_slice().to_vec(),
            vec![0.0; l],
        );
    };
    let k = u.ncols();
    let at = |v: &[f32], i: usize| v.get(i).copied().map_or(0.0, f64::from);
    let wk = DMatrix::from_fn(k, k, |i, j| at(w, i * width + j));
    let bk = DVector::from_fn(k, |i, _| at(b, i));
    let a = u * wk * u.transpose();
    let c = u * bk;
    // Row-major [in, out]: nalgebra is column-major, so store Aᵀ's columns.
    let rows = a.transpose().as_slice().iter().map(|&v| v as f32).collect();
    (rows, c.iter().map(|&v| v as f32).collect())
}

impl LatentForm for Vrrae {
    type State = State;

    fn lower(&self, cx: &mut LowerCx) -> Result<State> {
        let k = <rrae_lang::ir::Rank as LatentForm>::lower(&self.rank, cx)?;
        Ok(State {
            k,
            width: self.width,
            beta: self.beta,
            logvar: Dense { w: 0, b: None },
            mean: self.mean_map.then_some(Dense { w: 0, b: None }),
            folded: None,
            node: cx.ir.latent.id,
        })
    }

    // The maps are the latent's own: in a data-parallel step they run on the global
    // batch, the same on every rank. The mean map comes first, as the library draws
    // `lin_mean` before `lin_logvar`; the folded layer draws nothing and never trains.
    fn latent_params(s: &mut State, cx: &mut LowerCx) {
        if s.mean.is_some() {
            s.mean = Some(square_map(cx, "mean", s.width));
        }
        s.logvar = square_map(cx, "logvar", s.width);
        if s.mean.is_some() {
            let l = cx.ir.latent.dim;
            let (w, b) = folded(None, l, &[], &[], s.width);
            let w = cx
                .params
                .push("latent.mean_folded.weight".into(), vec![l, l], w);
            let b = cx.params.push("latent.mean_folded.bias".into(), vec![l], b);
            for i in [w, b] {
                cx.params.params[i].frozen = true;
            }
            s.folded = Some(Dense { w, b: Some(b) });
        }
    }

    fn forward<D: LatentKernels<E>, E: Real>(
        s: &State,
        tape: &mut Tape<D, E>,
        y: Var,
        params: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        let (c, ut) = coefficients(tape, y, s.k, s.width);
        let (c, ut) = match s.mean {
            Some(_) => oriented(tape, c, ut)?,
            None => (c, ut),
        };
        let map =
            |tape: &mut Tape<D, E>, d: &Dense| linear(tape, c, params[d.w], d.b.map(|b| params[b]));
        let mean = match &s.mean {
            Some(d) => map(tape, d)?,
            None => c,
        };
        let logvar = map(tape, &s.logvar)?;
        let z = sample(tape, mean, logvar)?;
        let out = matmul(tape, z, ut)?;
        Ok((out, Some(kl(tape, mean, logvar, s.k, s.beta)?)))
    }

    fn rank(s: &State) -> Option<usize> {
        Some(s.k)
    }

    fn set_rank(s: &mut State, k: usize) {
        s.k = k.min(s.width);
    }

    fn sharding(_: &State) -> Sharding {
        Sharding::GlobalBatch
    }

    fn label(s: &State, _: &ParamSet) -> String {
        let mean = if s.mean.is_some() {
            "latent.mean(C)"
        } else {
            "C"
        };
        format!(
            "U_k (μ + ε·σ), C = y U_k, μ = {mean}, log σ² = latent.logvar(C) (k={}, width {}); + {}·KL",
            s.k, s.width, s.beta
        )
    }

    fn inference_layers(s: &State) -> Vec<Lowered> {
        s.folded
            .iter()
            .map(|d| Lowered {
                node: s.node,
                label: format!("%{} vrrae μ folded with U_f (latent.mean_folded)", s.node),
                layer: Layer::Linear(d.clone()),
            })
            .collect()
    }

    fn fold_basis(
        s: &State,
        basis: Option<(&DMatrix<f64>, &[f32])>,
        params: &mut ParamSet,
    ) -> bool {
        let (Some(m), Some(Dense { w: fw, b: Some(fb) })) = (&s.mean, &s.folded) else {
            return false;
        };
        let l = params.params[*fw].shape[0];
        let basis = basis.map(|(u, y)| orient_basis(u, y));
        let mb = m.b.map_or(&[][..], |b| &params.params[b].data);
        let (w, b) = folded(basis.as_ref(), l, &params.params[m.w].data, mb, s.width);
        let changed = params.params[*fw].data != w || params.params[*fb].data != b;
        params.params[*fw].data = w;
        params.params[*fb].data = b;
        changed
    }

    /// Inference projects on the common basis, as the RRAE does; the coefficients are
    /// the Gaussian's mean.
    fn basis(s: &State, _: &ParamSet) -> BasisSource {
        BasisSource::Common { k: s.k }
    }
}
