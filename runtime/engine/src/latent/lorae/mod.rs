//! `lorae(lambda)` in training: the encoder ends in one bias-free L × L layer (lowered as
//! `linear_stack(1)` is, so it runs at inference too), and the loss adds `λ‖W‖_*`.
//!
//! The nuclear norm `‖W‖_* = Σ s_i` has the gradient `U Vᵀ` (`W = U S Vᵀ`) where W has
//! full rank; at zero singular values it is not differentiable, and the directions of
//! zero values are left out, which is the minimum-norm subgradient.

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use super::{LatentForm, LatentKernels, LowerCx, Sharding};
use crate::device::Device;
use crate::error::Result;
use crate::params::ParamSet;
use crate::tape::{Tape, TapeKernel, Var};
use crate::tensor::Real;
use rrae_lang::latent::linear_stack::LinearStack;
use rrae_lang::latent::lorae::Lorae;

/// The nuclear norm on a device.
pub trait NuclearKernel<E: Real>: Device {
    /// `λ‖W‖_*` of `w` (`rows × cols`) and its gradient `λ U Vᵀ`.
    fn nuclear_forward(
        &self,
        w: &Self::Buf<E>,
        rows: usize,
        cols: usize,
        lambda: f64,
    ) -> (f64, Self::Buf<E>);

    /// `g · d`.
    fn nuclear_scaled(&self, d: &Self::Buf<E>, g: f64) -> Self::Buf<E>;
}

/// What the training form needs of a device (part of `Backend`).
pub use self::NuclearKernel as Kernel;

/// `λ‖w‖_*`, a scalar on the tape.
pub fn nuclear<D: NuclearKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    w: Var,
    lambda: f64,
) -> Var {
    let (value, d) = tape
        .dev()
        .nuclear_forward(tape.value(w), w.rows, w.cols, lambda);
    let out = tape.scalar(E::of(value), &[w]);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            let g = pass.dev().download(&g)[0].f64();
            let dw = pass.dev().nuclear_scaled(&d, g);
            pass.add_grad(w, dw);
        }
        Ok(())
    });
    out
}

/// λ and the parameter index of the layer's weight.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub lambda: f64,
    pub w: usize,
}

impl LatentForm for Lorae {
    type State = State;

    fn lower(&self, cx: &mut LowerCx) -> Result<State> {
        LatentForm::lower(&LinearStack { l: 1 }, cx)?;
        Ok(State {
            lambda: self.lambda,
            w: cx.params.params.len() - 1,
        })
    }

    // The layer is the encoder's last; past it the latent passes unchanged.
    fn forward<D: LatentKernels<E>, E: Real>(
        s: &State,
        tape: &mut Tape<D, E>,
        y: Var,
        params: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        Ok((y, Some(nuclear(tape, params[s.w], s.lambda))))
    }

    fn rank(_: &State) -> Option<usize> {
        None
    }

    fn sharding(_: &State) -> Sharding {
        Sharding::Unsupported("its penalty is on an encoder weight, whose gradient every rank sums, so each rank would add the nuclear norm's gradient once more; a penalty taken once is not written yet")
    }

    fn label(s: &State, params: &ParamSet) -> String {
        format!(
            "identity after {} + {}·‖W‖_*",
            params.params.get(s.w).map_or("?", |p| p.name.as_str()),
            s.lambda
        )
    }
}
