//! Lowering: one checked IR graph → a runnable model, one lowering per IR op.
//!
//! Encoder and decoder become lists of [`Layer`]s over `(batch, features)` matrices;
//! parameters are registered in a [`ParamSet`] named after the IR node
//! (`encoder.7.weight`). Only checked IR reaches this point, so every shape here is
//! known to agree.

use crate::backend::Backend;
use crate::error::{Result, RuntimeError};
use crate::ops::activation::{activate, Activation};
use crate::ops::im2col::Geometry;
use crate::ops::linear::linear;
use crate::ops::weighted::Epilogue;
use crate::ops::{conv2d, conv_transpose2d};
use crate::params::{Init, ParamSet};
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_lang::ir::{Conv, Ir, LatentOp, Node, Op, Rank};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    Conv {
        geo: Geometry,
        w: usize,
        b: Option<usize>,
    },
    ConvT {
        geo: Geometry,
        w: usize,
        b: Option<usize>,
    },
    Linear {
        w: usize,
        b: Option<usize>,
    },
    Act(Activation),
    /// `flatten` and `reshape`: the row layout already is the flattening.
    View,
}

/// A lowered layer and the IR node it came from.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub node: usize,
    pub label: String,
    pub layer: Layer,
}

/// The latent operator in its training form.
#[derive(Clone, Debug, PartialEq)]
pub enum Latent {
    Identity,
    /// `svd_truncate(k)` with a fixed k.
    Svd {
        k: usize,
    },
    /// `project(U)` with a basis read from a file (L × k), or drawn (`fixed_basis`).
    Project {
        basis: nalgebra::DMatrix<f64>,
    },
    /// Sparse AE: the encoder ends in a sigmoid; the loss adds the KL sparsity penalty.
    Sparse {
        rho: f64,
        beta: f64,
    },
    /// Contractive AE: the encoder ends in a sigmoid after the linear layer whose weight
    /// is parameter `w`; the loss adds the Jacobian penalty.
    Contractive {
        beta: f64,
        w: usize,
    },
    /// Weak RRAE: the latent passes unchanged; the loss adds `β‖Y − Y_k‖`.
    Weak {
        k: usize,
        beta: f64,
    },
    /// Learn-basis AE: `Û Ûᵀ Y` with the basis parameter `b` (L × k).
    Learned {
        k: usize,
        b: usize,
    },
}

impl Latent {
    /// The rank of the latent map, where it has one.
    pub fn rank(&self) -> Option<usize> {
        match self {
            Latent::Svd { k } | Latent::Weak { k, .. } | Latent::Learned { k, .. } => Some(*k),
            Latent::Project { basis } => Some(basis.ncols()),
            Latent::Identity | Latent::Sparse { .. } | Latent::Contractive { .. } => None,
        }
    }

    /// Whether training ends with the common basis U_f of the per-batch truncated
    /// bases (and fine-tuning on it): RRAEs and Weak RRAEs.
    pub fn has_common_basis(&self) -> bool {
        matches!(self, Latent::Svd { .. } | Latent::Weak { .. })
    }
}

pub struct Model {
    pub ir: Ir,
    pub encoder: Vec<Lowered>,
    pub latent: Latent,
    pub decoder: Vec<Lowered>,
    pub params: ParamSet,
    /// Parameters `0..encoder_params` belong to the encoder.
    pub encoder_params: usize,
}

/// Per-layer forward wall time, printed with `RRAE_DEBUG=1`.
#[derive(Default, Debug)]
pub struct Profile {
    pub rows: Vec<(String, Duration, usize)>,
}

impl Profile {
    fn add(&mut self, label: &str, d: Duration) {
        match self.rows.iter_mut().find(|r| r.0 == label) {
            Some(r) => {
                r.1 += d;
                r.2 += 1;
            }
            None => self.rows.push((label.to_string(), d, 1)),
        }
    }
    pub fn record(&mut self, label: &str, t0: Instant) {
        self.add(label, t0.elapsed());
    }
}

fn geometry(c: &Conv, node: &Node, transpose: bool) -> Geometry {
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

fn lower_node(node: &Node, stage: &str, ps: &mut ParamSet, init: &mut Init) -> Lowered {
    let name = |p: &str| format!("{stage}.{}.{p}", node.id);
    let bias = |ps: &mut ParamSet, init: &mut Init, on: bool, n: usize, fan_in: usize| {
        on.then(|| ps.push(name("bias"), vec![n], init.uniform(n, fan_in)))
    };
    let layer = match &node.op {
        Op::Conv(c) => {
            let geo = geometry(c, node, false);
            let k = geo.col_rows();
            let w = ps.push(
                name("weight"),
                vec![c.out_channels, k],
                init.uniform(c.out_channels * k, k),
            );
            let b = bias(ps, init, c.bias, c.out_channels, k);
            Layer::Conv { geo, w, b }
        }
        Op::ConvTranspose(c) => {
            let geo = geometry(c, node, true);
            let k = geo.col_rows();
            // PyTorch's fan-in of a transposed convolution's weight [C_in, C_out, kh, kw]
            // is C_out·kh·kw.
            let w = ps.push(
                name("weight"),
                vec![c.in_channels, k],
                init.uniform(c.in_channels * k, k),
            );
            let b = bias(ps, init, c.bias, c.out_channels, k);
            Layer::ConvT { geo, w, b }
        }
        Op::Linear {
            in_features,
            out_features,
            bias: has_bias,
        } => {
            let (i, o) = (*in_features, *out_features);
            let w = ps.push(name("weight"), vec![i, o], init.uniform(i * o, i));
            let b = bias(ps, init, *has_bias, o, i);
            Layer::Linear { w, b }
        }
        Op::Flatten | Op::Reshape(_) => Layer::View,
        Op::Relu => Layer::Act(Activation::Relu),
        Op::Sigmoid => Layer::Act(Activation::Sigmoid),
        Op::Tanh => Layer::Act(Activation::Tanh),
        Op::LeakyRelu(a) => Layer::Act(Activation::LeakyRelu(*a)),
    };
    Lowered {
        node: node.id,
        label: format!("%{} {}", node.id, node.op),
        layer,
    }
}

/// The sigmoid that ends the encoder of the Sparse and Contractive AEs (in training
/// and at inference alike: the bottleneck is σ(Y)).
fn sigmoid_layer(ir: &Ir) -> Lowered {
    Lowered {
        node: ir.latent.id,
        label: format!("%{} sigmoid (latent)", ir.latent.id),
        layer: Layer::Act(Activation::Sigmoid),
    }
}

/// An `l × k` matrix with orthonormal columns, drawn from `seed`: the Q of a Gaussian
/// matrix (the Fix-basis AE's U).
pub fn random_orthonormal(l: usize, k: usize, seed: u64) -> nalgebra::DMatrix<f64> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let g = nalgebra::DMatrix::<f64>::from_fn(l, k, |_, _| StandardNormal.sample(&mut rng));
    g.qr().q()
}

fn lower_latent(op: &LatentOp, l: usize, batch: usize) -> Result<Latent> {
    match op {
        LatentOp::Identity => Ok(Latent::Identity),
        LatentOp::SvdTruncate(Rank::Fixed(k)) => Ok(Latent::Svd { k: *k }),
        // The controller sets k between steps; it starts at min(batch, L) (or 1).
        LatentOp::SvdTruncate(Rank::Adaptive { .. } | Rank::Annealed { .. }) => {
            Ok(Latent::Svd { k: l.min(batch) })
        }
        LatentOp::Project { basis, columns } => {
            let (h, data) = crate::files::read_npy(basis)?;
            let rows = h.count;
            if rows != l || h.sample != vec![*columns] {
                return Err(RuntimeError::Data {
                    path: basis.clone(),
                    reason: format!("basis is {rows} × {:?}, expected {l} × {columns}", h.sample),
                });
            }
            let m = nalgebra::DMatrix::from_row_iterator(
                rows,
                *columns,
                data.iter().map(|&v| v as f64),
            );
            Ok(Latent::Project { basis: m })
        }
        LatentOp::SigmoidSparse { rho, beta } => Ok(Latent::Sparse {
            rho: *rho,
            beta: *beta,
        }),
        LatentOp::LinearStack { .. } => Ok(Latent::Identity),
        // The weight index is filled in by `Model::lower`, which knows the encoder.
        LatentOp::Contractive { beta } => Ok(Latent::Contractive {
            beta: *beta,
            w: usize::MAX,
        }),
        LatentOp::WeakSvd { k, beta } => Ok(Latent::Weak { k: *k, beta: *beta }),
        LatentOp::FixedBasis { k, seed } => Ok(Latent::Project {
            basis: random_orthonormal(l, *k, *seed),
        }),
        LatentOp::LearnedBasis { k } => Ok(Latent::Learned {
            k: *k,
            b: usize::MAX,
        }),
    }
}

impl Model {
    /// Lowers a checked IR; parameters are drawn from `seed`.
    pub fn lower(ir: &Ir, seed: u64) -> Result<Model> {
        let mut params = ParamSet::default();
        let mut init = Init::new(seed);
        let mut encoder: Vec<_> = ir
            .encoder
            .iter()
            .map(|n| lower_node(n, "encoder", &mut params, &mut init))
            .collect();
        // IRMAE: `l` bias-free L×L linear layers end the encoder, in training and at
        // inference alike (PyTorch's default initialisation, like every linear layer).
        if let LatentOp::LinearStack { l } = ir.latent.op {
            let d = ir.latent.dim;
            for i in 0..l {
                let w = params.push(
                    format!("latent.{i}.weight"),
                    vec![d, d],
                    init.uniform(d * d, d),
                );
                encoder.push(Lowered {
                    node: ir.latent.id,
                    label: format!("%{} linear_stack[{i}] (no bias)", ir.latent.id),
                    layer: Layer::Linear { w, b: None },
                });
            }
        }
        let mut latent = lower_latent(&ir.latent.op, ir.latent.dim, ir.train.batch)?;
        match &mut latent {
            Latent::Contractive { w, .. } => {
                // h = σ(W x + b): the checker guarantees the encoder ends in `linear`.
                *w = encoder
                    .iter()
                    .rev()
                    .find_map(|l| match l.layer {
                        Layer::Linear { w, .. } => Some(w),
                        Layer::Conv { .. } | Layer::ConvT { .. } | Layer::Act(_) | Layer::View => {
                            None
                        }
                    })
                    .ok_or_else(|| RuntimeError::Unsupported {
                        what: "`contractive` on an encoder without a linear layer".into(),
                        hint: "end the encoder with `linear(L)`".into(),
                    })?;
                encoder.push(sigmoid_layer(ir));
            }
            Latent::Sparse { .. } => encoder.push(sigmoid_layer(ir)),
            Latent::Identity
            | Latent::Svd { .. }
            | Latent::Project { .. }
            | Latent::Weak { .. }
            | Latent::Learned { .. } => {}
        }
        let encoder_params = params.params.len();
        if let Latent::Learned { k, b } = &mut latent {
            let d = ir.latent.dim;
            *b = params.push(
                "latent.basis.weight".into(),
                vec![d, *k],
                init.uniform(d * *k, d),
            );
        }
        let decoder = ir
            .decoder
            .iter()
            .map(|n| lower_node(n, "decoder", &mut params, &mut init))
            .collect();
        Ok(Model {
            ir: ir.clone(),
            encoder,
            latent,
            decoder,
            params,
            encoder_params,
        })
    }

    pub fn latent_dim(&self) -> usize {
        self.ir.latent.dim
    }

    /// Freezes (or thaws) the encoder's parameters.
    pub fn freeze_encoder(&mut self, frozen: bool) {
        for p in &mut self.params.params[..self.encoder_params] {
            p.frozen = frozen;
        }
    }

    /// The encoder over `x`, with the parameters `params` bound on `tape`.
    pub fn encode<D: Backend<E>, E: Real>(
        &self,
        tape: &mut Tape<D, E>,
        params: &[Var],
        x: Var,
        prof: Option<&mut Profile>,
    ) -> Result<Var> {
        run(tape, &self.encoder, params, x, prof)
    }

    /// The decoder over `z`.
    pub fn decode<D: Backend<E>, E: Real>(
        &self,
        tape: &mut Tape<D, E>,
        params: &[Var],
        z: Var,
        prof: Option<&mut Profile>,
    ) -> Result<Var> {
        run(tape, &self.decoder, params, z, prof)
    }

    /// The lowered graph, as `RRAE_DEBUG=1` prints it.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, l: &Lowered| {
            let p = |i: &Option<usize>| i.map(|i| self.params.params[i].name.clone());
            let what = match &l.layer {
                Layer::Conv { geo, w, b } | Layer::ConvT { geo, w, b } => format!(
                    "im2col {:?}→{:?} kernel {:?} · {} {}",
                    geo.big,
                    geo.small,
                    geo.kernel,
                    self.params.params[*w].name,
                    p(b).unwrap_or_default()
                ),
                Layer::Linear { w, b } => format!(
                    "gemm · {} {}",
                    self.params.params[*w].name,
                    p(b).unwrap_or_default()
                ),
                Layer::Act(a) => format!("{a:?}"),
                Layer::View => "view (no copy)".into(),
            };
            s.push_str(&format!("  {:<40} {}\n", l.label, what));
        };
        s.push_str("encoder:\n");
        self.encoder.iter().for_each(|l| line(&mut s, l));
        s.push_str(&format!("latent: {:?}\n", self.latent_label()));
        s.push_str("decoder:\n");
        self.decoder.iter().for_each(|l| line(&mut s, l));
        s
    }

    fn latent_label(&self) -> String {
        match &self.latent {
            Latent::Identity => "identity".into(),
            Latent::Svd { k } => format!("svd_truncate(k={k}) (host SVD, stable backward)"),
            Latent::Project { basis } => format!("project({} × {})", basis.nrows(), basis.ncols()),
            Latent::Sparse { rho, beta } => format!("identity + {beta}·KL(ρ = {rho} ‖ mean σ(Y))"),
            Latent::Contractive { beta, w } => format!(
                "identity + {beta}·‖∂h/∂x‖² (weight {})",
                self.params.params[*w].name
            ),
            Latent::Weak { k, beta } => format!("identity + {beta}·‖Y − Y_{k}‖"),
            Latent::Learned { k, .. } => {
                format!("Û Ûᵀ Y, Û = latent.basis.weight normalised (L × {k})")
            }
        }
    }
}

/// `layers` over `x`. On an inference tape each layer's input is freed once read.
pub fn run<D: Backend<E>, E: Real>(
    tape: &mut Tape<D, E>,
    layers: &[Lowered],
    params: &[Var],
    mut x: Var,
    mut prof: Option<&mut Profile>,
) -> Result<Var> {
    let mut i = 0;
    while i < layers.len() {
        let l = &layers[i];
        let t0 = Instant::now();
        // A ReLU right after a convolution runs in the convolution's epilogue.
        let fuse = matches!(l.layer, Layer::Conv { .. } | Layer::ConvT { .. })
            && layers
                .get(i + 1)
                .is_some_and(|n| n.layer == Layer::Act(Activation::Relu));
        let epilogue = if fuse { Epilogue::Relu } else { Epilogue::None };
        let input = x;
        x = match &l.layer {
            Layer::Conv { geo, w, b } => {
                conv2d(tape, x, params[*w], b.map(|b| params[b]), *geo, epilogue)
            }
            Layer::ConvT { geo, w, b } => {
                conv_transpose2d(tape, x, params[*w], b.map(|b| params[b]), *geo, epilogue)
            }
            Layer::Linear { w, b } => linear(tape, x, params[*w], b.map(|b| params[b]))?,
            Layer::Act(a) => activate(tape, x, *a),
            Layer::View => x,
        };
        if x != input && i > 0 {
            tape.release(input);
        }
        if let Some(p) = prof.as_deref_mut() {
            if fuse {
                p.record(&format!("{} + {}", l.label, layers[i + 1].label), t0);
            } else {
                p.record(&l.label, t0);
            }
        }
        i += if fuse { 2 } else { 1 };
    }
    Ok(x)
}

/// `layers` over host `rows` (`dim` values each) on an inference tape, `chunk` rows at
/// a time; the outputs, row by row on the host. Each chunk's input and output are freed
/// before the next, so memory holds one chunk's activations.
pub fn infer<D: Backend<E>, E: Real>(
    dev: &D,
    layers: &[Lowered],
    params: &ParamSet,
    rows: &[E],
    dim: usize,
    chunk: usize,
) -> Result<Vec<E>> {
    let mut tape = Tape::inference(dev.clone());
    let vars = params.bind(&mut tape);
    let mut out = vec![];
    for part in rows.chunks(dim.max(1) * chunk.max(1)) {
        let x = tape.constant(dev.upload(part), part.len() / dim.max(1), dim);
        let y = run(&mut tape, layers, &vars, x, None)?;
        out.extend(tape.download(y));
        tape.release(x);
        tape.release(y);
    }
    Ok(out)
}

/// `rows · P` (`l` values each) for the projector `p` (`l × l`) on an inference tape.
pub fn project_rows<D: Backend<E>, E: Real>(
    dev: &D,
    rows: &[E],
    l: usize,
    p: &[E],
) -> Result<Vec<E>> {
    let mut tape = Tape::inference(dev.clone());
    let x = tape.constant(dev.upload(rows), rows.len() / l.max(1), l);
    let p = tape.constant(dev.upload(p), l, l);
    let y = crate::ops::project::project(&mut tape, x, p)?;
    Ok(tape.download(y))
}
