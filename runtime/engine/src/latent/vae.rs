//! `vae(beta)` in training: μ and log σ² are two linear maps of the encoder's output,
//! the decoder reads the reparameterised sample, and the loss adds the KL term
//! (kernels: `ops::gaussian`, `ops::linear`). At inference the μ map runs after the
//! encoder, so the artifact holds it as one more linear layer.

use super::{LatentForm, LatentKernels, LowerCx, Sharding};
use crate::error::{EngineError, Result};
use crate::layer::linear::Dense;
use crate::layer::{Layer, Lowered};
use crate::ops::gaussian::{kl, reparameterise, GaussianKernel};
use crate::ops::linear::{linear, BiasKernel};
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_lang::latent::vae::Vae;

/// What the training form needs of a device (part of `Backend`).
pub trait Kernel<E: Real>: GaussianKernel<E> + BiasKernel<E> {}

impl<E: Real, D: GaussianKernel<E> + BiasKernel<E>> Kernel<E> for D {}

/// The KL weight and the parameter indices of the μ and log σ² maps.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub beta: f64,
    pub mean: Dense,
    pub logvar: Dense,
    /// The latent node, which the inference layer is labelled with.
    pub node: usize,
}

/// A linear L → L map `latent.NAME.{weight,bias}`, PyTorch's (and equinox's)
/// initialisation.
pub(crate) fn square_map(cx: &mut LowerCx, name: &str, d: usize) -> Dense {
    let w = cx.params.push(
        format!("latent.{name}.weight"),
        vec![d, d],
        cx.init.uniform(d * d, d),
    );
    let b = cx.params.push(
        format!("latent.{name}.bias"),
        vec![d],
        cx.init.uniform(d, d),
    );
    Dense { w, b: Some(b) }
}

/// `μ + ε ⊙ σ` with the step's ε on a training tape; μ on a tape without noise.
pub(crate) fn sample<D: LatentKernels<E>, E: Real>(
    tape: &mut Tape<D, E>,
    mean: Var,
    logvar: Var,
) -> Result<Var> {
    match tape.normals(mean.len()) {
        Some(eps) => {
            let eps: Vec<E> = eps.into_iter().map(E::of).collect();
            let eps = tape.constant(tape.dev().upload(&eps), mean.rows, mean.cols);
            reparameterise(tape, mean, logvar, eps)
        }
        None if tape.records() => Err(EngineError::Unsupported {
            what: "a variational latent on a training tape without noise".into(),
            hint: "make the step's tape with `Tape::with_noise(seed, step)`".into(),
        }),
        None => Ok(mean),
    }
}

impl LatentForm for Vae {
    type State = State;

    fn lower(&self, cx: &mut LowerCx) -> Result<State> {
        Ok(State {
            beta: self.beta,
            mean: Dense { w: 0, b: None },
            logvar: Dense { w: 0, b: None },
            node: cx.ir.latent.id,
        })
    }

    // The maps are the latent's own: in a data-parallel step they run on the global
    // batch, the same on every rank.
    fn latent_params(s: &mut State, cx: &mut LowerCx) {
        let d = cx.ir.latent.dim;
        s.mean = square_map(cx, "mean", d);
        s.logvar = square_map(cx, "logvar", d);
    }

    fn forward<D: LatentKernels<E>, E: Real>(
        s: &State,
        tape: &mut Tape<D, E>,
        y: Var,
        params: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        let at = |d: &Dense| (params[d.w], d.b.map(|b| params[b]));
        let (mw, mb) = at(&s.mean);
        let (vw, vb) = at(&s.logvar);
        let mean = linear(tape, y, mw, mb)?;
        let logvar = linear(tape, y, vw, vb)?;
        let z = sample(tape, mean, logvar)?;
        Ok((z, Some(kl(tape, mean, logvar, usize::MAX, s.beta)?)))
    }

    fn rank(_: &State) -> Option<usize> {
        None
    }

    fn sharding(_: &State) -> Sharding {
        Sharding::GlobalBatch
    }

    fn label(s: &State, _: &ParamSet) -> String {
        format!(
            "μ, log σ² = latent.mean(y), latent.logvar(y); z = μ + ε·σ; + {}·KL",
            s.beta
        )
    }

    fn inference_layers(s: &State) -> Vec<Lowered> {
        vec![Lowered {
            node: s.node,
            label: format!("%{} vae μ (latent.mean)", s.node),
            layer: Layer::Linear(s.mean.clone()),
        }]
    }
}
