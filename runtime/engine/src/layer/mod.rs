//! Layers in their runtime form, one module each, named as the layer's definition in
//! `rrae_lang::layer` (which holds its catalog rows, shape rule and IR line). Each
//! module implements [`LayerForm`] for that definition: its lowering (the parameters it
//! registers), its forward on the tape, its FLOPs and its artifact form; it names the
//! kernel it needs (`Kernel`, which [`crate::backend::Backend`] includes), and a layer
//! with a kernel of its own keeps it in the same folder. The modules, the [`Layer`]
//! enum and its dispatch are generated from the language's one list
//! (`rrae_lang::with_layers!`), so a new layer is declared nowhere here.

use crate::device::cuda::module::Module;
use crate::error::Result;
use crate::ops::weighted::Epilogue;
use crate::params::{Init, ParamSet};
use crate::tape::{Tape, TapeKernel, Var};
use crate::tensor::Real;
use rrae_artifact as art;
use rrae_lang::ir::{Ir, Node, Op};
use std::fmt;

/// What lowering a layer may read and extend.
pub struct LayerCx<'a> {
    pub node: &'a Node,
    /// `encoder` or `decoder`: a parameter is named `{stage}.{id}.{name}`.
    pub stage: &'a str,
    pub params: &'a mut ParamSet,
    /// The run's parameter initialiser (draws in registration order).
    pub init: &'a mut Init,
}

impl LayerCx<'_> {
    /// Registers parameter `name` of `shape`, drawn uniformly in ±1/√`fan_in`
    /// (PyTorch's default for its layers); its index in the parameter set.
    pub fn param(&mut self, name: &str, shape: Vec<usize>, fan_in: usize) -> usize {
        let n = shape.iter().product();
        let data = self.init.uniform(n, fan_in);
        let name = format!("{}.{}.{name}", self.stage, self.node.id);
        self.params.push(name, shape, data)
    }
}

/// A layer's runtime form.
pub trait LayerForm {
    /// The lowered layer: what a forward reads (parameter indices, geometry).
    type State: Clone + fmt::Debug + PartialEq;

    /// The CUDA C of the layer's own kernels, if it has any (those in `ops/` are
    /// listed there): compiled to PTX and run as host C++ in the engine's tests.
    const CUDA: &'static [Module] = &[];

    /// Lowers the checked layer, registering its parameters.
    fn lower(&self, cx: &mut LayerCx) -> Self::State;

    /// The layer over the rows of `x` (one sample each) with the parameters `params`
    /// bound on `tape`. `epilogue` is [`Epilogue::Relu`] only for layers whose
    /// [`LayerForm::fuses_relu`] says so: the ReLU that follows runs inside them.
    fn forward<D: LayerKernels<E>, E: Real>(
        state: &Self::State,
        tape: &mut Tape<D, E>,
        x: Var,
        params: &[Var],
        epilogue: Epilogue,
    ) -> Result<Var>;

    /// The layer in the artifact's inference graph.
    fn artifact(state: &Self::State, params: &ParamSet) -> art::Layer;

    /// What the layer computes, as `RRAE_DEBUG=1` prints the lowered graph.
    fn describe(state: &Self::State, params: &ParamSet) -> String;

    /// Forward FLOPs per sample (two per multiply-add); zero for element-wise layers,
    /// which `rrae bench` does not count (see `cost.rs`).
    fn flops(_state: &Self::State, _params: &ParamSet) -> f64 {
        0.0
    }

    /// Whether a `relu` right after this layer can run in its epilogue.
    fn fuses_relu(_state: &Self::State) -> bool {
        false
    }

    /// Whether this layer is the `relu` such a layer fuses.
    fn is_relu(_state: &Self::State) -> bool {
        false
    }
}

macro_rules! layer_forms {
    ($($variant:ident($module:ident::$ty:ident)),* $(,)?) => {
        $(pub mod $module;)*

        /// The kernels every layer needs (each module's `Kernel`), which
        /// [`crate::backend::Backend`] includes.
        pub trait LayerKernels<E: Real>: TapeKernel<E> $(+ $module::Kernel<E>)* {}

        impl<E: Real, D: TapeKernel<E> $(+ $module::Kernel<E>)*> LayerKernels<E> for D {}

        /// Every layer's own CUDA C (see [`LayerForm::CUDA`]).
        pub const CUDA: &[&[Module]] = &[$(<rrae_lang::layer::$module::$ty as LayerForm>::CUDA,)*];

        /// A lowered layer: one variant per layer, holding its state.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Layer {
            $($variant(<rrae_lang::layer::$module::$ty as LayerForm>::State),)*
        }

        impl Layer {
            /// Lowers `op`; see [`LayerForm::lower`].
            pub fn lower(op: &Op, cx: &mut LayerCx) -> Layer {
                match op {
                    $(Op::$variant(op) => Layer::$variant(LayerForm::lower(op, cx)),)*
                }
            }

            /// See [`LayerForm::forward`].
            pub fn forward<D: LayerKernels<E>, E: Real>(
                &self,
                tape: &mut Tape<D, E>,
                x: Var,
                params: &[Var],
                epilogue: Epilogue,
            ) -> Result<Var> {
                match self {
                    $(Layer::$variant(s) => {
                        <rrae_lang::layer::$module::$ty as LayerForm>::forward(s, tape, x, params, epilogue)
                    })*
                }
            }

            /// See [`LayerForm::artifact`].
            pub fn artifact(&self, params: &ParamSet) -> art::Layer {
                match self {
                    $(Layer::$variant(s) => <rrae_lang::layer::$module::$ty as LayerForm>::artifact(s, params),)*
                }
            }

            /// See [`LayerForm::describe`].
            pub fn describe(&self, params: &ParamSet) -> String {
                match self {
                    $(Layer::$variant(s) => <rrae_lang::layer::$module::$ty as LayerForm>::describe(s, params),)*
                }
            }

            /// See [`LayerForm::flops`].
            pub fn flops(&self, params: &ParamSet) -> f64 {
                match self {
                    $(Layer::$variant(s) => <rrae_lang::layer::$module::$ty as LayerForm>::flops(s, params),)*
                }
            }

            /// See [`LayerForm::fuses_relu`].
            pub fn fuses_relu(&self) -> bool {
                match self {
                    $(Layer::$variant(s) => <rrae_lang::layer::$module::$ty as LayerForm>::fuses_relu(s),)*
                }
            }

            /// See [`LayerForm::is_relu`].
            pub fn is_relu(&self) -> bool {
                match self {
                    $(Layer::$variant(s) => <rrae_lang::layer::$module::$ty as LayerForm>::is_relu(s),)*
                }
            }
        }
    };
}

/// The runtime form of a parameter-free activation (`relu`, `sigmoid`, `tanh`): the
/// activation kernel, and the artifact's layer of the same name.
macro_rules! activation_form {
    ($ty:ty, $act:ident) => {
        impl $crate::layer::LayerForm for $ty {
            type State = ();

            fn lower(&self, _: &mut $crate::layer::LayerCx) {}

            fn forward<D: $crate::layer::LayerKernels<E>, E: $crate::tensor::Real>(
                _: &(),
                tape: &mut $crate::tape::Tape<D, E>,
                x: $crate::tape::Var,
                _: &[$crate::tape::Var],
                _: $crate::ops::weighted::Epilogue,
            ) -> $crate::error::Result<$crate::tape::Var> {
                let a = $crate::ops::activation::Activation::$act;
                Ok($crate::ops::activation::activate(tape, x, a))
            }

            fn artifact(_: &(), _: &$crate::params::ParamSet) -> rrae_artifact::Layer {
                rrae_artifact::Layer::$act
            }

            fn describe(_: &(), _: &$crate::params::ParamSet) -> String {
                format!("{:?}", $crate::ops::activation::Activation::$act)
            }

            fn is_relu(_: &()) -> bool {
                matches!(
                    $crate::ops::activation::Activation::$act,
                    $crate::ops::activation::Activation::Relu
                )
            }
        }
    };
}

/// The runtime form of a layer that only renames the shape (`flatten`, `reshape`):
/// nothing to compute, since a sample's row already is its flattening.
macro_rules! view_form {
    ($ty:ty) => {
        impl $crate::layer::LayerForm for $ty {
            type State = ();

            fn lower(&self, _: &mut $crate::layer::LayerCx) {}

            fn forward<D: $crate::layer::LayerKernels<E>, E: $crate::tensor::Real>(
                _: &(),
                _: &mut $crate::tape::Tape<D, E>,
                x: $crate::tape::Var,
                _: &[$crate::tape::Var],
                _: $crate::ops::weighted::Epilogue,
            ) -> $crate::error::Result<$crate::tape::Var> {
                Ok(x)
            }

            fn artifact(_: &(), _: &$crate::params::ParamSet) -> rrae_artifact::Layer {
                rrae_artifact::Layer::View
            }

            fn describe(_: &(), _: &$crate::params::ParamSet) -> String {
                "view (no copy)".into()
            }
        }
    };
}

rrae_lang::with_layers!(layer_forms);

/// A lowered layer and the IR node it came from.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub node: usize,
    pub label: String,
    pub layer: Layer,
}

impl Lowered {
    /// Lowers the IR node `node` of `stage` (`encoder`, `decoder`).
    pub fn lower(node: &Node, stage: &str, params: &mut ParamSet, init: &mut Init) -> Lowered {
        let mut cx = LayerCx {
            node,
            stage,
            params,
            init,
        };
        Lowered {
            node: node.id,
            label: format!("%{} {}", node.id, node.op),
            layer: Layer::lower(&node.op, &mut cx),
        }
    }

    /// The sigmoid that ends the encoder of the Sparse and Contractive AEs (in training
    /// and at inference alike: the bottleneck is σ(Y)).
    pub fn latent_sigmoid(ir: &Ir) -> Lowered {
        Lowered {
            node: ir.latent.id,
            label: format!("%{} sigmoid (latent)", ir.latent.id),
            layer: Layer::Sigmoid(()),
        }
    }
}

/// The artifact's form of `layers`.
pub fn artifact(layers: &[Lowered], params: &ParamSet) -> Vec<art::Layer> {
    layers.iter().map(|l| l.layer.artifact(params)).collect()
}

#[cfg(test)]
pub(crate) mod tests;
