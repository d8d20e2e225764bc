//! The IR: a typed, shape-annotated graph of one model plus its data, training and
//! evaluation settings. Its `Display` is the snapshot format and what `rrae check` prints.
//!
//! Encoder and decoder are chains (each node consumes the previous one); the latent
//! operator is one node with a training form and an inference form.

use crate::shape::Shape;
use crate::span::Span;
use crate::value::fmt_float;
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq)]
pub struct Ir {
    pub name: String,
    pub input: Shape,
    pub encoder: Vec<Node>,
    pub latent: LatentNode,
    pub decoder: Vec<Node>,
    pub data: Option<DataIr>,
    pub train: TrainIr,
    pub eval: EvalIr,
}

/// One layer: `%id = op(%id-1) : input -> output`.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: usize,
    pub op: Op,
    pub input: Shape,
    pub output: Shape,
    pub params: usize,
    pub span: Span,
    /// Block calls it was expanded from, outermost first.
    pub trace: Vec<(Span, String)>,
}

/// Convolution hyper-parameters; vectors have one entry per spatial axis (1 or 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub padding: Vec<usize>,
    pub output_padding: Vec<usize>,
    pub dilation: Vec<usize>,
    pub bias: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Conv(Conv),
    ConvTranspose(Conv),
    Linear {
        in_features: usize,
        out_features: usize,
        bias: bool,
    },
    Flatten,
    Reshape(Shape),
    Relu,
    Sigmoid,
    Tanh,
    LeakyRelu(f64),
}

pub use crate::latent::svd_truncate::{Rank, Search};
pub use crate::latent::LatentOp;

/// Where the inference-time basis U_f comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Basis {
    /// Concatenated per-batch truncated bases, SVD'd again after training (§4.2).
    Common,
    File(PathBuf),
    /// The random orthonormal basis drawn before training.
    Fixed,
    /// The trained basis matrix, columns normalised.
    Learned,
}

/// The latent operator in its inference form.
#[derive(Clone, Debug, PartialEq)]
pub enum Inference {
    Identity,
    Sigmoid,
    LinearStack {
        l: usize,
    },
    /// `Y ↦ U_f U_fᵀ Y`; `rank` is k, or `None` when the adaptive search decides it.
    Project {
        basis: Basis,
        rank: Option<usize>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct LatentNode {
    pub id: usize,
    pub op: LatentOp,
    /// L, the latent length.
    pub dim: usize,
    pub params: usize,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalize {
    Standardize,
    MinMax,
    None,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    GaussianBumps {
        grid: usize,
        train_per_axis: usize,
        test: usize,
        sigma: f64,
        extent: f64,
        centres: f64,
        seed: u64,
    },
    Idx {
        train: PathBuf,
        test: Option<PathBuf>,
    },
    Npy {
        train: PathBuf,
        test: Option<PathBuf>,
    },
    Images(ImagesIr),
}

/// A folder of PNG/JPEG images, decoded to [channels, H, W] values in 0–255.
#[derive(Clone, Debug, PartialEq)]
pub struct ImagesIr {
    pub train: PathBuf,
    pub test: Option<PathBuf>,
    /// A CelebA-style partition file splitting `train` (split 0) and test (split 2).
    pub partition: Option<PathBuf>,
    /// Every image cropped (if `crop`) and resized to size × size; `None`: all images
    /// must have the sample's size.
    pub size: Option<usize>,
    /// Take the central square before resizing.
    pub crop: bool,
    /// 3 (RGB) or 1 (grey).
    pub channels: usize,
    /// The folder for decoded-image caches; `None`: decode every run.
    pub cache: Option<PathBuf>,
    /// A labels file and, for a CelebA attribute table, the attribute used.
    pub labels: Option<(PathBuf, Option<String>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataIr {
    pub name: String,
    pub source: DataSource,
    /// One sample's shape as the model sees it.
    pub sample: Shape,
    pub train_count: usize,
    /// `None` when the test set is a `split` of the training file.
    pub test_count: Option<usize>,
    pub limit_train: Option<usize>,
    pub limit_test: Option<usize>,
    pub split: Option<f64>,
    pub normalize: Normalize,
    /// The physical parameters of each sample (`params_train`, `params_test`), for
    /// interpolating latents in parameter space.
    pub params: Option<ParamsIr>,
}

/// Parameter files beside a data file: one row of `dim` values per sample, in the
/// data file's order. Without `test` the test rows are the same `split` of `train`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamsIr {
    pub train: PathBuf,
    pub test: Option<PathBuf>,
    /// Parameters per sample, P.
    pub dim: usize,
}

impl DataIr {
    /// The fraction of a training file held out as the test set when there is no test
    /// file.
    pub const DEFAULT_SPLIT: f64 = 0.2;

    /// How many of `n` samples a `split` holds out: `round(n · split)`, at most `n`.
    pub fn held_out(n: usize, split: Option<f64>) -> usize {
        ((n as f64 * split.unwrap_or(Self::DEFAULT_SPLIT)).round() as usize).min(n)
    }

    /// The training samples the runtime will have: the file's, less a held-out split,
    /// within `limit_train`.
    pub fn train_samples(&self) -> usize {
        let n = match self.test_count {
            Some(_) => self.train_count,
            None => self.train_count - Self::held_out(self.train_count, self.split),
        };
        self.limit_train.map_or(n, |l| l.min(n))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Constant,
    Step { every: usize, gamma: f64 },
    Cosine { min_lr: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Optimizer {
    Adam {
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
    /// AdaBelief: Adam with the second moment of `g − m` instead of `g`.
    AdaBelief {
        beta1: f64,
        beta2: f64,
        eps: f64,
        eps_root: f64,
    },
    Sgd {
        momentum: f64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    RelativeL2,
    Mse,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TrainIr {
    pub steps: usize,
    pub fine_tune_steps: usize,
    pub batch: usize,
    pub lr: f64,
    pub fine_tune_lr: f64,
    pub schedule: Schedule,
    pub optimizer: Optimizer,
    pub loss: Loss,
    pub seed: u64,
    pub checkpoint_every: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EvalIr {
    pub interpolation_pairs: usize,
    pub interpolation_points: usize,
    pub random_samples: usize,
    pub bump_fit: bool,
}

impl Ir {
    pub fn encoder_params(&self) -> usize {
        self.encoder.iter().map(|n| n.params).sum()
    }
    pub fn decoder_params(&self) -> usize {
        self.decoder.iter().map(|n| n.params).sum()
    }
    pub fn total_params(&self) -> usize {
        self.encoder_params() + self.latent.params + self.decoder_params()
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn list(v: &[usize]) -> String {
    if v.len() == 1 {
        return v[0].to_string();
    }
    format!(
        "[{}]",
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let conv = |f: &mut fmt::Formatter<'_>, name: &str, c: &Conv, t: bool| {
            let d = if c.kernel.len() == 1 { "1d" } else { "2d" };
            write!(
                f,
                "{name}{d}(out={}, kernel={}, stride={}, padding={}",
                c.out_channels,
                list(&c.kernel),
                list(&c.stride),
                list(&c.padding)
            )?;
            if t {
                write!(f, ", output_padding={}", list(&c.output_padding))?;
            }
            if c.dilation.iter().any(|&x| x != 1) {
                write!(f, ", dilation={}", list(&c.dilation))?;
            }
            if !c.bias {
                write!(f, ", bias=false")?;
            }
            write!(f, ")")
        };
        match self {
            Op::Conv(c) => conv(f, "conv", c, false),
            Op::ConvTranspose(c) => conv(f, "conv_transpose", c, true),
            Op::Linear {
                out_features, bias, ..
            } => {
                write!(f, "linear(out={out_features}")?;
                if !bias {
                    write!(f, ", bias=false")?;
                }
                write!(f, ")")
            }
            Op::Flatten => write!(f, "flatten"),
            Op::Reshape(s) => write!(f, "reshape({s})"),
            Op::Relu => write!(f, "relu"),
            Op::Sigmoid => write!(f, "sigmoid"),
            Op::Tanh => write!(f, "tanh"),
            Op::LeakyRelu(s) => write!(f, "leaky_relu(slope={})", fmt_float(*s)),
        }
    }
}

impl fmt::Display for Inference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Inference::Identity => write!(f, "identity"),
            Inference::Sigmoid => write!(f, "sigmoid"),
            Inference::LinearStack { l } => write!(f, "linear_stack(l={l})"),
            Inference::Project { basis, rank } => {
                let k = rank.map_or("k*".to_string(), |k| k.to_string());
                match basis {
                    Basis::Common => write!(
                        f,
                        "project(U_f: common basis of the per-batch truncated bases, rank {k})"
                    ),
                    Basis::File(p) => write!(f, "project(U_f: {}, rank {k})", p.display()),
                    Basis::Fixed => write!(f, "project(U_f: the fixed random basis, rank {k})"),
                    Basis::Learned => write!(f, "project(U_f: the learned basis, rank {k})"),
                }
            }
        }
    }
}

/// One IR line as `rrae check` prints it: `%id = op %prev : shape  params n`, the id
/// and the operation padded into columns when `padded`.
fn ir_line(
    id: usize,
    op: &dyn fmt::Display,
    output: &dyn fmt::Display,
    params: usize,
    padded: bool,
) -> String {
    let prev = if id == 0 {
        "%input".to_string()
    } else {
        format!("%{}", id - 1)
    };
    let op = format!("{op} {prev}");
    let params = if params > 0 {
        format!("  params {}", thousands(params))
    } else {
        String::new()
    };
    if padded {
        format!("%{id:<3} = {op:<64} : {output}{params}")
    } else {
        format!("%{id} = {op} : {output}{params}")
    }
}

impl Node {
    /// This layer's line of `rrae check`, without the column padding.
    pub fn line(&self) -> String {
        ir_line(self.id, &self.op, &self.output, self.params, false)
    }

    fn padded_line(&self) -> String {
        ir_line(self.id, &self.op, &self.output, self.params, true)
    }
}

impl LatentNode {
    /// The latent operator's line of `rrae check`, without the column padding.
    pub fn line(&self) -> String {
        ir_line(
            self.id,
            &self.op,
            &format!("[{}]", self.dim),
            self.params,
            false,
        )
    }

    fn padded_line(&self) -> String {
        ir_line(
            self.id,
            &self.op,
            &format!("[{}]", self.dim),
            self.params,
            true,
        )
    }
}

impl fmt::Display for Ir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "model {}: input {} -> latent [{}] -> output {}",
            self.name,
            self.input,
            self.latent.dim,
            self.decoder.last().map_or(&self.input, |n| &n.output)
        )?;
        let node = |f: &mut fmt::Formatter<'_>, n: &Node| writeln!(f, "  {}", n.padded_line());
        writeln!(
            f,
            "encoder:                                                                   params {}",
            thousands(self.encoder_params())
        )?;
        for n in &self.encoder {
            node(f, n)?;
        }
        let l = &self.latent;
        writeln!(f, "latent:")?;
        writeln!(f, "  {}", l.padded_line())?;
        writeln!(f, "         inference: {}", l.op.inference())?;
        writeln!(
            f,
            "decoder:                                                                   params {}",
            thousands(self.decoder_params())
        )?;
        for n in &self.decoder {
            node(f, n)?;
        }
        writeln!(f, "total params: {}", thousands(self.total_params()))?;
        match &self.data {
            Some(d) => {
                let src = match &d.source {
                    DataSource::GaussianBumps { grid, train_per_axis, test, sigma, extent, centres, seed } => format!(
                        "gaussian_bumps(grid={grid}, train_per_axis={train_per_axis}, test={test}, sigma={}, extent={}, centres={}, seed={seed})",
                        fmt_float(*sigma), fmt_float(*extent), fmt_float(*centres)
                    ),
                    DataSource::Images(i) => {
                        let path = |name: &str, p: &Option<PathBuf>| p.as_ref().map_or(String::new(), |t| format!(", {name}={:?}", t.display().to_string()));
                        let size = i.size.map_or(String::new(), |s| format!(", size={s}"));
                        format!(
                            "images(train={:?}{}{}{size}, crop={}, channels={}{}{})",
                            i.train.display().to_string(),
                            path("test", &i.test),
                            path("partition", &i.partition),
                            if i.crop { "centre" } else { "none" },
                            i.channels,
                            path("cache", &i.cache),
                            i.labels.as_ref().map_or(String::new(), |(f, c)| format!(
                                ", labels={:?}{}",
                                f.display().to_string(),
                                c.as_ref().map_or(String::new(), |c| format!(", label={c:?}"))
                            )),
                        )
                    }
                    DataSource::Idx { train, test } | DataSource::Npy { train, test } => {
                        let kind = if matches!(d.source, DataSource::Idx { .. }) { "idx" } else { "npy" };
                        let test = test.as_ref().map_or(String::new(), |t| format!(", test={:?}", t.display().to_string()));
                        format!("{kind}(train={:?}{test})", train.display().to_string())
                    }
                };
                let test = d.test_count.map_or_else(
                    || {
                        format!(
                            "split {}",
                            fmt_float(d.split.unwrap_or(DataIr::DEFAULT_SPLIT))
                        )
                    },
                    |t| t.to_string(),
                );
                writeln!(f, "data {}: {src}", d.name)?;
                write!(
                    f,
                    "  samples {}, train {}, test {test}, normalize {:?}",
                    d.sample, d.train_count, d.normalize
                )?;
                if let Some(l) = d.limit_train {
                    write!(f, ", limit_train {l}")?;
                }
                if let Some(l) = d.limit_test {
                    write!(f, ", limit_test {l}")?;
                }
                writeln!(f)?;
                if let Some(p) = &d.params {
                    let test = p.test.as_ref().map_or(String::new(), |t| {
                        format!(", test={:?}", t.display().to_string())
                    });
                    writeln!(
                        f,
                        "  params {}: train={:?}{test}",
                        p.dim,
                        p.train.display().to_string()
                    )?;
                }
            }
            None => writeln!(
                f,
                "data: none (give one with `data name = …` before `rrae run`)"
            )?,
        }
        let t = &self.train;
        let sched = match &t.schedule {
            Schedule::Constant => "constant".to_string(),
            Schedule::Step { every, gamma } => {
                format!("step(every={every}, gamma={})", fmt_float(*gamma))
            }
            Schedule::Cosine { min_lr } => format!("cosine(min_lr={})", fmt_float(*min_lr)),
        };
        let opt = match &t.optimizer {
            Optimizer::Adam { beta1, beta2, eps } => format!(
                "adam(beta1={}, beta2={}, eps={})",
                fmt_float(*beta1),
                fmt_float(*beta2),
                fmt_float(*eps)
            ),
            Optimizer::AdaBelief {
                beta1,
                beta2,
                eps,
                eps_root,
            } => format!(
                "adabelief(beta1={}, beta2={}, eps={}, eps_root={})",
                fmt_float(*beta1),
                fmt_float(*beta2),
                fmt_float(*eps),
                fmt_float(*eps_root)
            ),
            Optimizer::Sgd { momentum } => format!("sgd(momentum={})", fmt_float(*momentum)),
        };
        writeln!(
            f,
            "train: steps {}, fine_tune_steps {}, batch {}, lr {}, fine_tune_lr {}, schedule {sched}, optimizer {opt}, loss {:?}, seed {}{}",
            t.steps, t.fine_tune_steps, t.batch, fmt_float(t.lr), fmt_float(t.fine_tune_lr), t.loss, t.seed,
            t.checkpoint_every.map_or(String::new(), |c| format!(", checkpoint_every {c}"))
        )?;
        let e = &self.eval;
        writeln!(
            f,
            "eval: interpolation_pairs {}, interpolation_points {}, random_samples {}, bump_fit {}",
            e.interpolation_pairs, e.interpolation_points, e.random_samples, e.bump_fit
        )
    }
}
