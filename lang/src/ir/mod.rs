//! The IR: a typed, shape-annotated graph of one model plus its data, training and
//! evaluation settings. Its `Display` is the snapshot format and what `rrae check` prints.
//!
//! Encoder and decoder are chains (each node consumes the previous one); the latent
//! operator is one node with a training form and an inference form. The parts live in
//! the child modules, below the layers and latent operators that read them; this module
//! assembles them (and re-exports every part, for the crates above).

pub(crate) mod data;
pub(crate) mod inference;
pub(crate) mod node;
pub(crate) mod train;

pub use self::data::*;
pub use self::inference::*;
pub use self::node::*;
pub use self::train::*;
pub use crate::latent::svd_truncate::{Rank, Search};
pub use crate::latent::LatentOp;
pub use crate::layer::conv::Conv;
pub use crate::layer::Op;
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

#[derive(Clone, Debug, PartialEq)]
pub struct LatentNode {
    pub id: usize,
    pub op: LatentOp,
    /// L, the latent length.
    pub dim: usize,
    /// The largest rank of a batch's L × batch latent matrix: min(L, batch), with
    /// `batch` clamped to the training set where the data is known to be smaller (as
    /// the loader clamps it). Checks, the rank controller and lowering all read it here.
    pub k_max: usize,
    pub params: usize,
    pub span: Span,
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
            "train: steps {}, fine_tune_steps {}, batch {}, lr {}, fine_tune_lr {}, schedule {sched}, optimizer {opt}, loss {:?}, seed {}{}, validate_every {}",
            t.steps, t.fine_tune_steps, t.batch, fmt_float(t.lr), fmt_float(t.fine_tune_lr), t.loss, t.seed,
            t.checkpoint_every.map_or(String::new(), |c| format!(", checkpoint_every {c}")),
            t.validate_every
        )?;
        let e = &self.eval;
        writeln!(
            f,
            "eval: interpolation_pairs {}, interpolation_points {}, random_samples {}, bump_fit {}{}",
            e.interpolation_pairs,
            e.interpolation_points,
            e.random_samples,
            e.bump_fit,
            if e.sample_prior { ", sample_prior" } else { "" }
        )
    }
}
