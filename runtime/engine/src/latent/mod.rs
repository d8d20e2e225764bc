//! Latent operators in their training form, one module each, named as the operator's
//! definition in `rrae_lang::latent` (which holds its signature, checks, IR line and
//! inference form). Each module implements [`LatentForm`] for that definition and
//! names the kernel its form needs (`Kernel`, which [`crate::backend::Backend`]
//! includes); operators with a kernel of their own keep it in the same folder. The
//! modules, the [`Latent`] enum and its dispatch are generated from the language's
//! one list (`rrae_lang::with_latent_ops!`), so a new operator is declared nowhere here.

use crate::error::Result;
use crate::layer::Lowered;
use crate::params::{Init, ParamSet};
use crate::tape::TapeKernel;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use nalgebra::DMatrix;
use rrae_lang::ir::{Ir, LatentOp};
use std::fmt;

/// What lowering a latent operator may read and extend.
pub struct LowerCx<'a> {
    pub ir: &'a Ir,
    /// The lowered encoder so far; layers pushed here run in training and inference.
    pub encoder: &'a mut Vec<Lowered>,
    pub params: &'a mut ParamSet,
    /// The run's parameter initialiser (draws in registration order).
    pub init: &'a mut Init,
}

/// The basis inference projects on, as far as the operator decides it.
#[derive(Clone, Debug, PartialEq)]
pub enum BasisSource {
    /// No projection at inference.
    None,
    /// Known before training (read from a file, or drawn).
    Fixed(DMatrix<f64>),
    /// The common basis U_f of the per-batch truncated bases, of rank `k`, computed
    /// when training ends; fine-tuning follows.
    Common { k: usize },
    /// Read from the trained parameters.
    Trained(DMatrix<f64>),
}

/// How a latent operator runs in a data-parallel step, where each rank holds a shard
/// of the batch (`ops::shard`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharding {
    /// On the global batch's latents, gathered from every rank, the same on every rank:
    /// its output and penalty depend on the latents (and its own parameters) only. Its
    /// own parameters' gradients are then the same on every rank, and are taken once
    /// rather than summed over the ranks.
    GlobalBatch,
    /// Not distributed yet, and why.
    Unsupported(&'static str),
}

/// A latent operator's training form.
pub trait LatentForm {
    /// The lowered operator: what a step reads.
    type State: Clone + fmt::Debug + PartialEq;

    /// Lowers the operator once the encoder is lowered. Layers and parameters it adds
    /// belong to the encoder (frozen with it for fine-tuning).
    fn lower(&self, cx: &mut LowerCx) -> Result<Self::State>;

    /// Registers the latent map's own parameters, after the encoder's.
    fn latent_params(_state: &mut Self::State, _cx: &mut LowerCx) {}

    /// The training form on a batch's latents `y` (rows are samples): the decoder's
    /// input, and the penalty the loss adds, if any.
    fn forward<D: LatentKernels<E>, E: Real>(
        state: &Self::State,
        tape: &mut Tape<D, E>,
        y: Var,
        params: &[Var],
    ) -> Result<(Var, Option<Var>)>;

    /// The rank of the latent map, where it has one.
    fn rank(state: &Self::State) -> Option<usize>;

    /// Sets the kept rank, for operators whose rank the controller changes.
    fn set_rank(_state: &mut Self::State, _k: usize) {}

    /// The latent map as `RRAE_DEBUG=1` and `rrae bench` describe it.
    fn label(state: &Self::State, params: &ParamSet) -> String;

    /// How the operator runs when the batch is split across ranks (`ops::shard`).
    fn sharding(state: &Self::State) -> Sharding;

    /// Where inference's basis comes from.
    fn basis(_state: &Self::State, _params: &ParamSet) -> BasisSource {
        BasisSource::None
    }

    /// Layers inference runs after the encoder (and the artifact holds after it): the
    /// part of the latent map that stays once training ends, a VAE's μ map.
    fn inference_layers(_state: &Self::State) -> Vec<Lowered> {
        vec![]
    }

    /// Sets the parameters of [`LatentForm::inference_layers`] that depend on the
    /// common basis U_f, given with the training latents it was computed from (`n × L`,
    /// rows are samples), once training has computed it; with `None`, to what passes
    /// the encoder's output through unchanged, which is what U_f is computed from (a
    /// resumed fine-tuning computes it again from the folded parameters). Returns
    /// whether any parameter changed. A VRRAE's trained mean map acts in U_f's
    /// coordinates, so it is folded with U_f into one L × L layer.
    fn fold_basis(
        _state: &Self::State,
        _basis: Option<(&DMatrix<f64>, &[f32])>,
        _params: &mut ParamSet,
    ) -> bool {
        false
    }
}

macro_rules! latent_forms {
    ($($variant:ident($module:ident::$ty:ident)),* $(,)?) => {
        $(pub mod $module;)*

        /// The kernels every latent operator's training form needs (each module's
        /// `Kernel`), which [`crate::backend::Backend`] includes.
        pub trait LatentKernels<E: Real>: TapeKernel<E> $(+ $module::Kernel<E>)* {}

        impl<E: Real, D: TapeKernel<E> $(+ $module::Kernel<E>)*> LatentKernels<E> for D {}

        /// The latent operator lowered: one variant per operator, holding its state.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Latent {
            $($variant(<rrae_lang::latent::$module::$ty as LatentForm>::State),)*
        }

        impl Latent {
            /// Lowers `op`; see [`LatentForm::lower`].
            pub fn lower(op: &LatentOp, cx: &mut LowerCx) -> Result<Latent> {
                Ok(match op {
                    $(LatentOp::$variant(op) => Latent::$variant(LatentForm::lower(op, cx)?),)*
                })
            }

            /// See [`LatentForm::latent_params`].
            pub fn latent_params(&mut self, cx: &mut LowerCx) {
                match self {
                    $(Latent::$variant(s) => {
                        <rrae_lang::latent::$module::$ty as LatentForm>::latent_params(s, cx)
                    })*
                }
            }

            /// See [`LatentForm::forward`].
            pub fn forward<D: LatentKernels<E>, E: Real>(
                &self,
                tape: &mut Tape<D, E>,
                y: Var,
                params: &[Var],
            ) -> Result<(Var, Option<Var>)> {
                match self {
                    $(Latent::$variant(s) => {
                        <rrae_lang::latent::$module::$ty as LatentForm>::forward(s, tape, y, params)
                    })*
                }
            }

            /// The rank of the latent map, where it has one.
            pub fn rank(&self) -> Option<usize> {
                match self {
                    $(Latent::$variant(s) => <rrae_lang::latent::$module::$ty as LatentForm>::rank(s),)*
                }
            }

            /// See [`LatentForm::set_rank`].
            pub fn set_rank(&mut self, k: usize) {
                match self {
                    $(Latent::$variant(s) => {
                        <rrae_lang::latent::$module::$ty as LatentForm>::set_rank(s, k)
                    })*
                }
            }

            /// See [`LatentForm::label`].
            pub fn label(&self, params: &ParamSet) -> String {
                match self {
                    $(Latent::$variant(s) => {
                        <rrae_lang::latent::$module::$ty as LatentForm>::label(s, params)
                    })*
                }
            }

            /// See [`LatentForm::sharding`].
            pub fn sharding(&self) -> Sharding {
                match self {
                    $(Latent::$variant(s) => <rrae_lang::latent::$module::$ty as LatentForm>::sharding(s),)*
                }
            }

            /// See [`LatentForm::inference_layers`].
            pub fn inference_layers(&self) -> Vec<Lowered> {
                match self {
                    $(Latent::$variant(s) => {
                        <rrae_lang::latent::$module::$ty as LatentForm>::inference_layers(s)
                    })*
                }
            }

            /// See [`LatentForm::fold_basis`].
            pub fn fold_basis(&self, basis: Option<(&DMatrix<f64>, &[f32])>, params: &mut ParamSet) -> bool {
                match self {
                    $(Latent::$variant(s) => {
                        <rrae_lang::latent::$module::$ty as LatentForm>::fold_basis(s, basis, params)
                    })*
                }
            }

            /// See [`LatentForm::basis`].
            pub fn basis(&self, params: &ParamSet) -> BasisSource {
                match self {
                    $(Latent::$variant(s) => {
                        <rrae_lang::latent::$module::$ty as LatentForm>::basis(s, params)
                    })*
                }
            }
        }
    };
}

rrae_lang::with_latent_ops!(latent_forms);

impl Latent {
    /// Whether training ends with the common basis U_f of the per-batch truncated
    /// bases (and fine-tuning on it): RRAEs and Weak RRAEs.
    pub fn has_common_basis(&self, params: &ParamSet) -> bool {
        matches!(self.basis(params), BasisSource::Common { .. })
    }
}
