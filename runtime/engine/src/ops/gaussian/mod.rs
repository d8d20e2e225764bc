//! The Gaussian latent of the variational autoencoders (the VAE, the VRRAE): the
//! reparameterised sample and the KL divergence from the standard normal prior, each a
//! tape op with a closed-form backward.
//!
//! - [`reparameterise`]: `z = μ + ε ⊙ exp(½ log σ²)` with ε a constant (the step's
//!   draws, `crate::noise`): `∂z/∂μ = 1`, `∂z/∂log σ² = ½ ε exp(½ log σ²)`;
//! - [`kl`]: `β Σ −½ (1 + log σ² − μ² − σ²)` over every entry of the batch, as the
//!   authors' library sums it (`loss_generator("VAE")`, `"VRRAE"`): `∂/∂μ = β μ`,
//!   `∂/∂log σ² = ½ β (σ² − 1)`.

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use crate::device::Device;
use crate::error::{EngineError, Result};
use crate::tape::{Tape, TapeKernel, Var};
use crate::tensor::Real;

/// The Gaussian latent on a device.
pub trait GaussianKernel<E: Real>: Device {
    /// `μ + ε ⊙ exp(½ log σ²)`, element by element.
    fn reparameterise(
        &self,
        mean: &Self::Buf<E>,
        logvar: &Self::Buf<E>,
        eps: &Self::Buf<E>,
    ) -> Self::Buf<E>;

    /// `g ⊙ ½ ε exp(½ log σ²)`: the gradient reaching `log σ²` (`μ`'s is `g` itself).
    fn reparameterise_backward(
        &self,
        logvar: &Self::Buf<E>,
        eps: &Self::Buf<E>,
        g: &Self::Buf<E>,
    ) -> Self::Buf<E>;

    /// `β Σ −½ (1 + log σ² − μ² − σ²)` over the first `used` of every `width`
    /// columns, summed in f64.
    fn kl_forward(&self, mean: &Self::Buf<E>, logvar: &Self::Buf<E>, cols: Cols, beta: f64) -> f64;

    /// `(g β μ, g ½ β (σ² − 1))` on the same columns, zero elsewhere: the KL's
    /// gradients scaled by the incoming `g`.
    fn kl_backward(
        &self,
        mean: &Self::Buf<E>,
        logvar: &Self::Buf<E>,
        cols: Cols,
        beta: f64,
        g: f64,
    ) -> (Self::Buf<E>, Self::Buf<E>);
}

/// Which columns of a `rows × width` Gaussian the KL counts: the first `used` of each
/// row (all of a VAE's; the current rank's of a VRRAE's, whose maps are as wide as the
/// largest rank).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cols {
    pub width: usize,
    pub used: usize,
}

impl Cols {
    /// Whether entry `i` (row-major) is counted.
    pub fn counts(self, i: usize) -> bool {
        i % self.width.max(1) < self.used
    }
}

fn same_shape(op: &'static str, a: Var, b: Var) -> Result<()> {
    if a.shape() == b.shape() {
        Ok(())
    } else {
        Err(EngineError::ShapeMismatch {
            op,
            lhs: a.shape(),
            rhs: b.shape(),
        })
    }
}

/// `z = μ + ε ⊙ exp(½ log σ²)`; `eps` is a constant of `mean`'s shape.
pub fn reparameterise<D: GaussianKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    mean: Var,
    logvar: Var,
    eps: Var,
) -> Result<Var> {
    same_shape("reparameterise (μ, log σ²)", mean, logvar)?;
    same_shape("reparameterise (μ, ε)", mean, eps)?;
    let z = tape
        .dev()
        .reparameterise(tape.value(mean), tape.value(logvar), tape.value(eps));
    let z = tape.output(z, mean.rows, mean.cols, &[mean, logvar]);
    tape.on_backward(z, move |pass| {
        if let Some(g) = pass.take_grad(z) {
            if pass.wants(logvar) {
                let dv =
                    pass.dev()
                        .reparameterise_backward(pass.value(logvar), pass.value(eps), &g);
                pass.add_grad(logvar, dv);
            }
            pass.add_grad(mean, g);
        }
        Ok(())
    });
    Ok(z)
}

/// `β Σ −½ (1 + log σ² − μ² − σ²)` over the first `used` columns (all: `usize::MAX`),
/// a scalar on the tape.
pub fn kl<D: GaussianKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    mean: Var,
    logvar: Var,
    used: usize,
    beta: f64,
) -> Result<Var> {
    same_shape("kl (μ, log σ²)", mean, logvar)?;
    let cols = Cols {
        width: mean.cols,
        used: used.min(mean.cols),
    };
    let value = tape
        .dev()
        .kl_forward(tape.value(mean), tape.value(logvar), cols, beta);
    let out = tape.scalar(E::of(value), &[mean, logvar]);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            let g = pass.dev().download(&g)[0].f64();
            let (dm, dv) =
                pass.dev()
                    .kl_backward(pass.value(mean), pass.value(logvar), cols, beta, g);
            pass.add_grad(mean, dm);
            pass.add_grad(logvar, dv);
        }
        Ok(())
    });
    Ok(out)
}
