//! `leaky_relu(slope)` lowered: the activation kernel, element by element.

use super::{LayerCx, LayerForm, LayerKernels};
use crate::error::Result;
use crate::ops::activation::{activate, Activation};
use crate::ops::weighted::Epilogue;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_artifact as art;
use rrae_lang::layer::leaky_relu::LeakyRelu;

pub use crate::ops::activation::ActivationKernel as Kernel;

impl LayerForm for LeakyRelu {
    /// The slope for x < 0.
    type State = f64;

    fn lower(&self, _: &mut LayerCx) -> f64 {
        self.0
    }

    fn forward<D: LayerKernels<E>, E: Real>(
        slope: &f64,
        tape: &mut Tape<D, E>,
        x: Var,
        _: &[Var],
        _: Epilogue,
    ) -> Result<Var> {
        Ok(activate(tape, x, Activation::LeakyRelu(*slope)))
    }

    fn artifact(slope: &f64, _: &ParamSet) -> art::Layer {
        art::Layer::LeakyRelu(*slope as f32)
    }

    fn describe(slope: &f64, _: &ParamSet) -> String {
        format!("{:?}", Activation::LeakyRelu(*slope))
    }
}
