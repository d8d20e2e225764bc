//! `linear(out)` lowered: `x W + b` with W of [in, out] (as dfdx and the artifact store
//! it).

use super::{LayerCx, LayerForm, LayerKernels};
use crate::error::Result;
use crate::ops::linear::linear;
use crate::ops::weighted::Epilogue;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_artifact as art;
use rrae_lang::layer::linear::Linear;

/// The products and the bias add (the matrix product is `BiasKernel`'s supertrait).
pub use crate::ops::linear::BiasKernel as Kernel;

/// A lowered dense layer: its weight and bias parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub w: usize,
    pub b: Option<usize>,
}

impl LayerForm for Linear {
    type State = Dense;

    fn lower(&self, cx: &mut LayerCx) -> Dense {
        let (i, o) = (self.in_features, self.out_features);
        let w = cx.param("weight", vec![i, o], i);
        let b = self.bias.then(|| cx.param("bias", vec![o], i));
        Dense { w, b }
    }

    fn forward<D: LayerKernels<E>, E: Real>(
        s: &Dense,
        tape: &mut Tape<D, E>,
        x: Var,
        params: &[Var],
        _: Epilogue,
    ) -> Result<Var> {
        linear(tape, x, params[s.w], s.b.map(|b| params[b]))
    }

    fn artifact(s: &Dense, params: &ParamSet) -> art::Layer {
        let shape = &params.params[s.w].shape;
        art::Layer::Linear {
            inputs: shape[0] as u32,
            outputs: shape[1] as u32,
            weight: s.w as u32,
            bias: s.b.map(|b| b as u32),
        }
    }

    fn describe(s: &Dense, params: &ParamSet) -> String {
        let name = |i: usize| params.params[i].name.clone();
        format!("gemm · {} {}", name(s.w), s.b.map(name).unwrap_or_default())
    }

    fn flops(s: &Dense, params: &ParamSet) -> f64 {
        let shape = &params.params[s.w].shape;
        2.0 * (shape[0] * shape[1]) as f64
    }
}
