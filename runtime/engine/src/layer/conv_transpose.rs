//! `conv_transpose2d` and `conv_transpose1d` lowered: the adjoint of the im2col
//! convolution (col2im), with a bias and an optional fused ReLU.

use super::conv::{geometry, Weighted};
use super::{LayerCx, LayerForm, LayerKernels};
use crate::error::Result;
use crate::ops::conv_transpose2d::conv_transpose2d;
use crate::ops::weighted::Epilogue;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_artifact as art;
use rrae_lang::layer::conv_transpose::ConvTranspose;

pub use crate::ops::conv_transpose2d::ConvTranspose2dKernel as Kernel;

impl LayerForm for ConvTranspose {
    type State = Weighted;

    fn lower(&self, cx: &mut LayerCx) -> Weighted {
        let c = &self.0;
        let geo = geometry(c, cx.node, true);
        let k = geo.col_rows();
        // PyTorch's fan-in of a transposed convolution's weight [C_in, C_out, kh, kw]
        // is C_out·kh·kw.
        let w = cx.param("weight", vec![c.in_channels, k], k);
        let b = c.bias.then(|| cx.param("bias", vec![c.out_channels], k));
        Weighted { geo, w, b }
    }

    fn forward<D: LayerKernels<E>, E: Real>(
        s: &Weighted,
        tape: &mut Tape<D, E>,
        x: Var,
        params: &[Var],
        epilogue: Epilogue,
    ) -> Result<Var> {
        let b = s.b.map(|b| params[b]);
        Ok(conv_transpose2d(tape, x, params[s.w], b, s.geo, epilogue))
    }

    fn artifact(s: &Weighted, params: &ParamSet) -> art::Layer {
        art::Layer::ConvTranspose(s.artifact(params.params[s.w].shape[0], s.geo.channels))
    }

    fn describe(s: &Weighted, params: &ParamSet) -> String {
        s.describe(params)
    }

    fn flops(s: &Weighted, params: &ParamSet) -> f64 {
        s.flops(params)
    }

    fn fuses_relu(_: &Weighted) -> bool {
        true
    }
}
