//! `reshape` lowered: nothing to compute, since the row layout of a sample already is
//! its flattening.

use super::{LayerCx, LayerForm, LayerKernels};
use crate::error::Result;
use crate::ops::weighted::Epilogue;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_artifact as art;
use rrae_lang::layer::reshape::Reshape;

pub use crate::tape::TapeKernel as Kernel;

impl LayerForm for Reshape {
    type State = ();

    fn lower(&self, _: &mut LayerCx) {}

    fn forward<D: LayerKernels<E>, E: Real>(
        _: &(),
        _: &mut Tape<D, E>,
        x: Var,
        _: &[Var],
        _: Epilogue,
    ) -> Result<Var> {
        Ok(x)
    }

    fn artifact(_: &(), _: &ParamSet) -> art::Layer {
        art::Layer::View
    }

    fn describe(_: &(), _: &ParamSet) -> String {
        "view (no copy)".into()
    }
}
