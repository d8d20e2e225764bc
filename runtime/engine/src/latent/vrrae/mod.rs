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

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use super::vae::{sample, square_map};
use super::{BasisSource, LatentForm, LatentKernels, LowerCx, Sharding};
use crate::device::Device;
use crate::error::Result;
use crate::layer::linear::Dense;
use crate::ops::gaussian::{kl, GaussianKernel};
use crate::ops::linear::{linear, BiasKernel};
use crate::ops::matmul::matmul;
use crate::params::ParamSet;
use crate::tape::{timing, Tape, TapeKernel, Var};
use crate::tensor::Real;
use crate::truncation::Truncation;
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
                    || pass.dev().coefficients_backward(&t, pass.value(y), &g, width),
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

/// The current rank, the maps' width, β and the log-variance map.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub k: usize,
    pub width: usize,
    pub beta: f64,
    pub logvar: Dense,
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
        })
    }

    // The map is the latent's own: in a data-parallel step it runs on the global
    // batch, the same on every rank.
    fn latent_params(s: &mut State, cx: &mut LowerCx) {
        s.logvar = square_map(cx, "logvar", s.width);
    }

    fn forward<D: LatentKernels<E>, E: Real>(
        s: &State,
        tape: &mut Tape<D, E>,
        y: Var,
        params: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        let (c, ut) = coefficients(tape, y, s.k, s.width);
        let logvar = linear(
            tape,
            c,
            params[s.logvar.w],
            s.logvar.b.map(|b| params[b]),
        )?;
        let z = sample(tape, c, logvar)?;
        let out = matmul(tape, z, ut)?;
        Ok((out, Some(kl(tape, c, logvar, s.k, s.beta)?)))
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
        format!(
            "U_k (C + ε·σ), C = y U_k, log σ² = latent.logvar(C) (k={}, width {}); + {}·KL",
            s.k, s.width, s.beta
        )
    }

    /// Inference projects on the common basis, as the RRAE does; the coefficients are
    /// the Gaussian's mean.
    fn basis(s: &State, _: &ParamSet) -> BasisSource {
        BasisSource::Common { k: s.k }
    }
}
