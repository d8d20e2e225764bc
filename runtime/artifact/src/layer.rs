//! The layers an artifact's encoder and decoder hold, and all a reader does with one:
//! the length check `View::open` runs before anything is interpreted
//! ([`ArchivedLayer::out_len`]) and the arithmetic of the interpreter
//! ([`ArchivedLayer::apply`]), on one sample, reading the weights in place, sums in f64.
//!
//! The runtime generates its layers from one list (`rrae_lang::with_layers!`); this
//! crate depends on nothing of ours, so it cannot read that list. Its matches are
//! written out instead, with no wildcard: a new variant here is a compile error until
//! both say what it means, and the engine's test `every_layer_runs_alike_in_the_artifact`
//! fails for a runtime layer whose artifact form computes something else.

use crate::geometry::Geometry;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rkyv::rend::{f32_le, u32_le};
use rkyv::{Archive, Deserialize, Serialize};

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum Layer {
    Conv(Conv),
    ConvTranspose(Conv),
    Linear {
        inputs: u32,
        outputs: u32,
        weight: u32,
        bias: Option<u32>,
    },
    Relu,
    Sigmoid,
    Tanh,
    LeakyRelu(f32),
    /// Flatten or reshape: the row layout already is the flattening.
    View,
}

/// A 2-D convolution; `big` is the larger grid (the input of a convolution, the output
/// of a transposed one), `small` the other.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Conv {
    pub channels_in: u32,
    pub channels_out: u32,
    pub big: [u32; 2],
    pub small: [u32; 2],
    pub kernel: [u32; 2],
    pub stride: [u32; 2],
    pub padding: [u32; 2],
    pub dilation: [u32; 2],
    pub weight: u32,
    pub bias: Option<u32>,
}

/// The artifact's tensor `i`, if there is one: how a layer reads its weights.
pub(crate) type Weights<'w, 'a> = &'w dyn Fn(u32) -> Option<&'a [f32_le]>;

impl ArchivedLayer {
    /// The length after this layer for an input of `len` values; why not, when its
    /// shapes, weights or bias do not fit.
    pub(crate) fn out_len(&self, w: Weights, len: usize) -> Result<usize, String> {
        match self {
            ArchivedLayer::Conv(c) => conv_len(w, c, len, false),
            ArchivedLayer::ConvTranspose(c) => conv_len(w, c, len, true),
            ArchivedLayer::Linear {
                inputs,
                outputs,
                weight,
                bias,
            } => {
                let (i, o) = (inputs.to_native() as usize, outputs.to_native() as usize);
                if i != len {
                    return Err(format!("linear takes {i} values, gets {len}"));
                }
                sized(w, weight.to_native(), i.checked_mul(o), "weight")?;
                if let Some(b) = bias.as_ref() {
                    sized(w, b.to_native(), Some(o), "bias")?;
                }
                Ok(o)
            }
            ArchivedLayer::LeakyRelu(s) => {
                if !s.to_native().is_finite() {
                    return Err("the leaky_relu slope is not finite".into());
                }
                Ok(len)
            }
            ArchivedLayer::Relu
            | ArchivedLayer::Sigmoid
            | ArchivedLayer::Tanh
            | ArchivedLayer::View => Ok(len),
        }
    }

    /// This layer on one sample `x`. Only layers that passed [`Self::out_len`] reach
    /// here, so every index is in range.
    pub(crate) fn apply(&self, w: Weights, x: Vec<f32>) -> Vec<f32> {
        match self {
            ArchivedLayer::Conv(c) => conv(w, c, &x, false),
            ArchivedLayer::ConvTranspose(c) => conv(w, c, &x, true),
            ArchivedLayer::Linear {
                inputs,
                outputs,
                weight,
                bias,
            } => linear(
                w,
                inputs.to_native() as usize,
                outputs.to_native() as usize,
                weight.to_native(),
                bias.as_ref().map(|b| b.to_native()),
                &x,
            ),
            ArchivedLayer::Relu => x.into_iter().map(|v| v.max(0.0)).collect(),
            ArchivedLayer::Sigmoid => x
                .into_iter()
                .map(|v| 1.0 / (1.0 + libm::expf(-v)))
                .collect(),
            ArchivedLayer::Tanh => x.into_iter().map(libm::tanhf).collect(),
            ArchivedLayer::LeakyRelu(s) => {
                let s = s.to_native();
                x.into_iter()
                    .map(|v| if v > 0.0 { v } else { s * v })
                    .collect()
            }
            ArchivedLayer::View => x,
        }
    }
}

/// Tensor `t` in place; validation has checked it exists.
fn tensor<'a>(w: Weights<'_, 'a>, t: u32) -> &'a [f32_le] {
    w(t).unwrap_or(&[])
}

fn at(w: &[f32_le], i: usize) -> f64 {
    w[i].to_native() as f64
}

/// The geometry of one channel pair of `c`.
fn geometry(c: &ArchivedConv) -> Geometry {
    let two = |v: &[u32_le; 2]| [v[0].to_native() as usize, v[1].to_native() as usize];
    Geometry {
        channels: 1,
        big: two(&c.big),
        small: two(&c.small),
        kernel: two(&c.kernel),
        stride: two(&c.stride),
        padding: two(&c.padding),
        dilation: two(&c.dilation),
    }
}

/// Visits (tap, small index, big index) of one channel pair, in-range reads only,
/// taps and small points in order.
fn each(g: &Geometry, mut f: impl FnMut(usize, usize, usize)) {
    let (sw, bw, st) = (g.small[1], g.big[1], g.stride[1]);
    g.for_each_span(|tap, _, oh, ih, ws, iw0| {
        for (j, ow) in ws.enumerate() {
            f(tap, oh * sw + ow, ih * bw + iw0 + j * st);
        }
    });
}

fn bias(w: Weights, b: Option<u32>, n: usize, plane: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * plane];
    if let Some(b) = b {
        let b = tensor(w, b);
        for (i, o) in out.iter_mut().enumerate() {
            *o = at(b, i / plane);
        }
    }
    out
}

/// A convolution (reads the big grid, writes the small one) or its transpose (the
/// other way round); weights are `[out, in·taps]` and `[in, out·taps]` respectively.
fn conv(weights: Weights, c: &ArchivedConv, x: &[f32], transpose: bool) -> Vec<f32> {
    let g = geometry(c);
    let (cin, cout) = (
        c.channels_in.to_native() as usize,
        c.channels_out.to_native() as usize,
    );
    let (sp, bp) = (g.small[0] * g.small[1], g.big[0] * g.big[1]);
    let (xp, op) = if transpose { (sp, bp) } else { (bp, sp) };
    let taps = g.kernel[0] * g.kernel[1];
    let w = tensor(weights, c.weight.to_native());
    let mut out = bias(weights, c.bias.as_ref().map(|b| b.to_native()), cout, op);
    for co in 0..cout {
        for ci in 0..cin {
            let wb = if transpose {
                ci * cout + co
            } else {
                co * cin + ci
            } * taps;
            let (o, xi) = (&mut out[co * op..(co + 1) * op], &x[ci * xp..(ci + 1) * xp]);
            if transpose {
                each(&g, |t, s, b| o[b] += at(w, wb + t) * xi[s] as f64);
            } else {
                each(&g, |t, s, b| o[s] += at(w, wb + t) * xi[b] as f64);
            }
        }
    }
    out.into_iter().map(|v| v as f32).collect()
}

fn linear(
    weights: Weights,
    inputs: usize,
    outputs: usize,
    weight: u32,
    bias_t: Option<u32>,
    x: &[f32],
) -> Vec<f32> {
    let w = tensor(weights, weight);
    let mut out = bias(weights, bias_t, outputs, 1);
    for (i, &xi) in x.iter().enumerate().take(inputs) {
        let row = &w[i * outputs..(i + 1) * outputs];
        for (o, wv) in out.iter_mut().zip(row) {
            *o += xi as f64 * wv.to_native() as f64;
        }
    }
    out.into_iter().map(|v| v as f32).collect()
}

fn sized(w: Weights, t: u32, want: Option<usize>, what: &str) -> Result<(), String> {
    let have = w(t).map(|t| t.len());
    match (have, want) {
        (Some(h), Some(w)) if h == w => Ok(()),
        (None, _) => Err(format!("its {what} tensor {t} does not exist")),
        (Some(h), w) => Err(format!("its {what} has {h} values, expected {w:?}")),
    }
}

fn conv_len(w: Weights, c: &ArchivedConv, len: usize, transpose: bool) -> Result<usize, String> {
    let n = |v: &u32_le| v.to_native() as usize;
    let (cin, cout) = (n(&c.channels_in), n(&c.channels_out));
    let (big, small) = (
        [n(&c.big[0]), n(&c.big[1])],
        [n(&c.small[0]), n(&c.small[1])],
    );
    let (k, s, p, d) = (
        [n(&c.kernel[0]), n(&c.kernel[1])],
        [n(&c.stride[0]), n(&c.stride[1])],
        [n(&c.padding[0]), n(&c.padding[1])],
        [n(&c.dilation[0]), n(&c.dilation[1])],
    );
    if cin == 0 || cout == 0 || k.contains(&0) || s.contains(&0) || d.contains(&0) {
        return Err("a zero channel count, kernel, stride or dilation".into());
    }
    for a in 0..2 {
        // small = ⌊(big + 2p − d(k−1) − 1) / s⌋ + 1; a transposed conv may add
        // an output padding below max(s, d) to big.
        let reach = d[a].checked_mul(k[a] - 1).ok_or("kernel reach overflows")? + 1;
        let span = big[a].checked_add(2 * p[a]).ok_or("padding overflows")?;
        let fits =
            |b: usize| b + 2 * p[a] >= reach && (b + 2 * p[a] - reach) / s[a] + 1 == small[a];
        let ok = if transpose {
            (0..s[a].max(d[a])).any(|op| big[a] >= op && fits(big[a] - op) && span >= reach)
        } else {
            fits(big[a])
        };
        if !ok {
            return Err(format!("grid {big:?} ↔ {small:?} does not match kernel {k:?}, stride {s:?}, padding {p:?}, dilation {d:?}"));
        }
    }
    let area = |g: [usize; 2]| g[0].checked_mul(g[1]);
    let (inp, out) = if transpose {
        (
            area(small).and_then(|a| a.checked_mul(cin)),
            area(big).and_then(|a| a.checked_mul(cout)),
        )
    } else {
        (
            area(big).and_then(|a| a.checked_mul(cin)),
            area(small).and_then(|a| a.checked_mul(cout)),
        )
    };
    if inp != Some(len) {
        return Err(format!("it takes {inp:?} values, gets {len}"));
    }
    let taps = k[0] * k[1];
    sized(
        w,
        c.weight.to_native(),
        cin.checked_mul(cout).and_then(|v| v.checked_mul(taps)),
        "weight",
    )?;
    if let Some(b) = c.bias.as_ref() {
        sized(w, b.to_native(), Some(cout), "bias")?;
    }
    out.ok_or_else(|| "its output is too large".into())
}
