//! `sigmoid` lowered: the activation kernel, element by element.

use super::{LayerCx, LayerForm, LayerKernels};
use crate::error::Result;
use crate::ops::activation::{activate, Activation};
use crate::ops::weighted::Epilogue;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_artifact as art;
use rrae_lang::layer::sigmoid::Sigmoid;

pub use crate::ops::activation::ActivationKernel as Kernel;

impl LayerForm for Sigmoid {
    type State = ();

    fn lower(&self, _: &mut LayerCx) {}

    fn forward<D: LayerKernels<E>, E: Real>(
        _: &(),
        tape: &mut Tape<D, E>,
        x: Var,
        _: &[Var],
        _: Epilogue,
    ) -> Result<Var> {
        Ok(activate(tape, x, Activation::Sigmoid))
    }

    fn artifact(_: &(), _: &ParamSet) -> art::Layer {
        art::Layer::Sigmoid
    }

    fn describe(_: &(), _: &ParamSet) -> String {
        format!("{:?}", Activation::Sigmoid)
    }
}
