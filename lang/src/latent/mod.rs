//! Latent operators, one definition each.
//!
//! Each operator is a type in its own file here implementing [`LatentDef`]: its
//! signature with defaults (the catalog row `rrae check`, the resolver and the LSP
//! read), its checks and shape rule, its IR line and its inference form (which fixes
//! its artifact form). The list below is the only other place that names it: the
//! [`LatentOp`] enum, the catalog table and the dispatch are generated from it, and so
//! is the runtime's side (`rrae_engine::latent`, through [`with_latent_ops!`]), where
//! the same module name holds the operator's training form and kernels. A new
//! operator is this list's row, its file here and its folder in the engine; the
//! compiler then asks for every method either trait requires.

use crate::error::{Error, ErrorKind, Result};
use crate::ir::inference::Inference;
use crate::ir::node::Node;
use crate::ir::train::TrainIr;
use crate::signature::{Bound, OpSpec};
use crate::span::Span;
use crate::value::fmt_float;
use std::fmt;
use std::path::Path;

/// Calls the macro `$m` with the list of latent operators, one row each:
/// `Variant(module::Type)`. The module names the file here and the runtime's folder.
#[macro_export]
macro_rules! with_latent_ops {
    ($m:ident) => {
        $m! {
            Identity(identity::Identity),
            SvdTruncate(svd_truncate::Rank),
            Project(project::Project),
            SigmoidSparse(sigmoid_sparse::SigmoidSparse),
            LinearStack(linear_stack::LinearStack),
            Contractive(contractive::Contractive),
            WeakSvd(weak_svd::WeakSvd),
            FixedBasis(fixed_basis::FixedBasis),
            LearnedBasis(learned_basis::LearnedBasis),
            Vae(vae::Vae),
            Vrrae(vrrae::Vrrae),
            Lorae(lorae::Lorae),
        }
    };
}

/// A latent operator's definition in the language.
pub trait LatentDef: Clone + fmt::Debug + PartialEq + Sized {
    /// Name, parameters with their defaults, and the one-line doc.
    const SPEC: OpSpec;
    /// Checks the bound arguments against the model and builds the operator (which
    /// may simplify to another one: `svd_truncate(k = L)` is the identity).
    fn check(cx: &Cx) -> Result<LatentOp>;
    /// What replaces the operator at inference (and so what the artifact holds).
    fn inference(&self) -> Inference;
    /// Its IR line, every default written out (`rrae check`, snapshots).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// Trainable parameters of its own, for a latent of length `dim`.
    fn params(&self, _dim: usize) -> usize {
        0
    }
    /// The rank schedule the trainer's controller follows, for operators whose rank
    /// changes during training.
    fn rank_control(&self) -> Option<&svd_truncate::Rank> {
        None
    }
    /// Whether samples are decoded from the prior N(0, I) of the coefficients (the
    /// variational models) rather than from a Gaussian fitted to the training ones.
    fn prior(&self) -> bool {
        false
    }
    /// The term the operator adds to the loss, as the loss plot's legend names it.
    fn penalty(&self) -> Option<&'static str> {
        None
    }
    /// Values per sample a training step keeps for the latent (the memory estimate):
    /// the encoder's output, the decoder's input and their gradients.
    fn saved(&self, dim: usize) -> usize {
        4 * dim
    }
}

macro_rules! define_latent_ops {
    ($($variant:ident($module:ident::$ty:ident)),* $(,)?) => {
        $(pub mod $module;)*

        /// The latent operator in its training form.
        #[derive(Clone, Debug, PartialEq)]
        pub enum LatentOp {
            $($variant($module::$ty),)*
        }

        $(impl From<$module::$ty> for LatentOp {
            fn from(op: $module::$ty) -> LatentOp {
                LatentOp::$variant(op)
            }
        })*

        /// The latent operators of the `latent` line.
        pub const LATENT_OPS: &[OpSpec] = &[$(<$module::$ty as LatentDef>::SPEC,)*];

        impl LatentOp {
            /// Checks the operator `cx.b` names; `None` for a name no operator has.
            pub fn check(cx: &Cx) -> Option<Result<LatentOp>> {
                $(if cx.b.op == <$module::$ty as LatentDef>::SPEC.name {
                    return Some(<$module::$ty as LatentDef>::check(cx));
                })*
                None
            }

            pub fn name(&self) -> &'static str {
                match self {
                    $(LatentOp::$variant(_) => <$module::$ty as LatentDef>::SPEC.name,)*
                }
            }

            /// What replaces this operator at inference (`svd_truncate(k)` → `project(U_f)`).
            pub fn inference(&self) -> Inference {
                match self {
                    $(LatentOp::$variant(op) => op.inference(),)*
                }
            }

            /// Trainable parameters of the operator itself.
            pub fn params(&self, dim: usize) -> usize {
                match self {
                    $(LatentOp::$variant(op) => op.params(dim),)*
                }
            }

            /// See [`LatentDef::prior`].
            pub fn prior(&self) -> bool {
                match self {
                    $(LatentOp::$variant(op) => op.prior(),)*
                }
            }

            /// See [`LatentDef::penalty`].
            pub fn penalty(&self) -> Option<&'static str> {
                match self {
                    $(LatentOp::$variant(op) => op.penalty(),)*
                }
            }

            /// See [`LatentDef::saved`].
            pub fn saved(&self, dim: usize) -> usize {
                match self {
                    $(LatentOp::$variant(op) => op.saved(dim),)*
                }
            }

            /// See [`LatentDef::rank_control`].
            pub fn rank_control(&self) -> Option<&svd_truncate::Rank> {
                match self {
                    $(LatentOp::$variant(op) => op.rank_control(),)*
                }
            }
        }

        impl fmt::Display for LatentOp {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(LatentOp::$variant(op) => LatentDef::fmt(op, f),)*
                }
            }
        }
    };
}

with_latent_ops!(define_latent_ops);

/// What checking a latent operator knows besides its arguments.
pub struct Cx<'a> {
    /// The operator's bound arguments, defaults filled in.
    pub b: &'a Bound,
    /// L, the latent length.
    pub dim: usize,
    /// The largest batch a step sees: `batch`, or fewer training samples.
    pub batch: usize,
    /// The largest rank of a batch's latents, min(L, batch) with `batch` as above:
    /// computed here once and kept in the IR ([`crate::ir::LatentNode::k_max`]).
    pub k_max: usize,
    pub train: &'a TrainIr,
    /// The training set's size, where it is smaller than `batch`.
    pub samples: Option<usize>,
    /// Where the train block sets `batch`, if it does.
    pub batch_span: Option<Span>,
    pub encoder: &'a [Node],
    /// The model file's folder, against which relative paths resolve.
    pub dir: &'a Path,
}

impl Cx<'_> {
    fn invalid(&self, name: &str, value: String, reason: impl Into<String>) -> Error {
        ErrorKind::InvalidValue {
            span: self.b.span(name),
            what: format!("`{name}` of `{}`", self.b.op),
            value,
            reason: reason.into(),
        }
        .into()
    }

    /// Argument `name` as a rank: at least 1 and at most `limit` (min(L, batch) when
    /// `uses_batch`, for ranks taken of a batch's latents).
    pub fn rank(&self, name: &str, limit: usize, uses_batch: bool) -> Result<usize> {
        let k = self.b.int(name);
        if k < 1 {
            return Err(self.invalid(name, k.to_string(), "a rank must be at least 1"));
        }
        if k as usize > limit {
            return Err(ErrorKind::RankTooLarge {
                span: self.b.span(name),
                k,
                latent: self.dim,
                batch: uses_batch.then_some(self.train.batch),
                batch_span: if uses_batch { self.batch_span } else { None },
                samples: self.samples.filter(|_| uses_batch),
            }
            .into());
        }
        Ok(k as usize)
    }

    /// A rank of the batch's latents: `rank(name, min(L, batch), true)`.
    pub fn batch_rank(&self, name: &str) -> Result<usize> {
        self.rank(name, self.k_max, true)
    }

    /// Argument `name` as a float in the open interval (`lo`, `hi`).
    pub fn float_in(&self, name: &str, lo: f64, hi: f64, reason: &str) -> Result<f64> {
        let v = self.b.float(name);
        if !(v > lo && v < hi) || !v.is_finite() && hi.is_finite() {
            return Err(self.invalid(name, fmt_float(v), reason));
        }
        Ok(v)
    }

    /// Argument `name` as a penalty weight: finite and ≥ 0.
    pub fn weight(&self, name: &str) -> Result<f64> {
        let v = self.b.float(name);
        if !(v >= 0.0 && v.is_finite()) {
            return Err(self.invalid(name, fmt_float(v), "a penalty weight must be ≥ 0"));
        }
        Ok(v)
    }

    /// Integer argument `name`, if given: at least `min`, and not absurdly large.
    pub fn at_least(&self, name: &str, min: i64) -> Result<Option<usize>> {
        crate::checks::positive(self.b, name, min)?;
        Ok(self
            .b
            .get(name)
            .is_some()
            .then(|| self.b.int(name) as usize))
    }

    /// `parts` multiplied, refused past what a tensor may hold.
    pub fn checked_params(&self, parts: &[usize]) -> Result<usize> {
        crate::checks::checked_params(parts, self.b.span)
    }

    /// "`what` is too large", pointing at argument `name`.
    pub fn too_large(&self, name: &str, what: &str) -> Error {
        crate::checks::too_large(self.b.span(name), what)
    }
}
