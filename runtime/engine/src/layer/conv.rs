//! `conv2d` and `conv1d` lowered: one im2col convolution (a 1-D one has height 1),
//! with a bias and, when a `relu` follows, the ReLU in its epilogue.

use super::{LayerCx, LayerForm, LayerKernels};
use crate::error::Result;
use crate::ops::conv2d::conv2d;
use crate::ops::weighted::Epilogue;
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_artifact as art;
use rrae_artifact::Geometry;
use rrae_lang::ir::Node;
use rrae_lang::layer::conv::Conv;

pub use crate::ops::conv2d::Conv2dKernel as Kernel;

/// A lowered convolution or transposed convolution: its geometry and its weight and
/// bias parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Weighted {
    pub geo: Geometry,
    pub w: usize,
    pub b: Option<usize>,
}

/// The geometry of `c` at `node` (`transpose`: of a transposed convolution, whose big
/// grid is its output).
pub(super) fn geometry(c: &Conv, node: &Node, transpose: bool) -> Geometry {
    // 1-D convolutions run as 2-D ones of height 1.
    let two = |v: &[usize], one: usize| -> [usize; 2] {
        if v.len() == 1 {
            [one, v[0]]
        } else {
            [v[0], v[1]]
        }
    };
    let grid = |s: &[usize]| -> [usize; 2] { two(&s[1..], 1) };
    let (big, small) = if transpose {
        (grid(node.output.dims()), grid(node.input.dims()))
    } else {
        (grid(node.input.dims()), grid(node.output.dims()))
    };
    Geometry {
        channels: if transpose {
            c.out_channels
        } else {
            c.in_channels
        },
        big,
        small,
        kernel: two(&c.kernel, 1),
        stride: two(&c.stride, 1),
        padding: two(&c.padding, 0),
        dilation: two(&c.dilation, 1),
    }
}

impl Weighted {
    /// The artifact's convolution of `cin` → `cout` channels.
    pub(super) fn artifact(&self, cin: usize, cout: usize) -> art::Conv {
        let two = |v: [usize; 2]| [v[0] as u32, v[1] as u32];
        let g = &self.geo;
        art::Conv {
            channels_in: cin as u32,
            channels_out: cout as u32,
            big: two(g.big),
            small: two(g.small),
            kernel: two(g.kernel),
            stride: two(g.stride),
            padding: two(g.padding),
            dilation: two(g.dilation),
            weight: self.w as u32,
            bias: self.b.map(|b| b as u32),
        }
    }

    /// `im2col [big]→[small] kernel [k] · weight bias`.
    pub(super) fn describe(&self, params: &ParamSet) -> String {
        let name = |i: usize| params.params[i].name.clone();
        format!(
            "im2col {:?}→{:?} kernel {:?} · {} {}",
            self.geo.big,
            self.geo.small,
            self.geo.kernel,
            name(self.w),
            self.b.map(name).unwrap_or_default()
        )
    }

    /// Each output point of a convolution is a dot product over C_in·kh·kw inputs;
    /// each input point of a transposed one is spread over C_out·kh·kw outputs.
    pub(super) fn flops(&self, params: &ParamSet) -> f64 {
        let rows = params.params[self.w].shape[0];
        2.0 * (rows * self.geo.col_rows() * self.geo.col_cols()) as f64
    }
}

impl LayerForm for Conv {
    type State = Weighted;

    fn lower(&self, cx: &mut LayerCx) -> Weighted {
        let geo = geometry(self, cx.node, false);
        let k = geo.col_rows();
        let w = cx.param("weight", vec![self.out_channels, k], k);
        let b = self
            .bias
            .then(|| cx.param("bias", vec![self.out_channels], k));
        Weighted { geo, w, b }
    }

    fn forward<D: LayerKernels<E>, E: Real>(
        s: &Weighted,
        tape: &mut Tape<D, E>,
        x: Var,
        params: &[Var],
        epilogue: Epilogue,
    ) -> Result<Var> {
        Ok(conv2d(
            tape,
            x,
            params[s.w],
            s.b.map(|b| params[b]),
            s.geo,
            epilogue,
        ))
    }

    fn artifact(s: &Weighted, params: &ParamSet) -> art::Layer {
        art::Layer::Conv(s.artifact(s.geo.channels, params.params[s.w].shape[0]))
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
