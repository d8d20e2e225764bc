//! Layers, one definition each.
//!
//! Each layer is a type in its own file here implementing [`LayerDef`]: its catalog
//! rows (the names it answers to, their parameters and defaults, which `rrae check`,
//! the resolver and the LSP read), its shape rule, its IR line and its share of the
//! memory estimate. The list below is the only other place that names it: the IR's
//! [`Op`] enum, the catalog table [`LAYERS`] and the dispatch are generated from it, and
//! so is the runtime's side (`rrae_engine::layer`, through [`with_layers!`]), where the
//! same module name holds the layer's lowering, kernel and artifact form. A new layer
//! is this list's row, its file here, its folder in the engine and its artifact form;
//! the compiler then asks for every method either trait requires.

use crate::error::{Error, ErrorKind, Result};
use crate::shape::Shape;
use crate::signature::{Bound, OpSpec};
use std::fmt;

/// Calls the macro `$m` with the list of layers, one row each: `Variant(module::Type)`.
/// The module names the file here and the runtime's folder.
#[macro_export]
macro_rules! with_layers {
    ($m:ident) => {
        $m! {
            Conv(conv::Conv),
            ConvTranspose(conv_transpose::ConvTranspose),
            Linear(linear::Linear),
            Flatten(flatten::Flatten),
            Reshape(reshape::Reshape),
            Relu(relu::Relu),
            Sigmoid(sigmoid::Sigmoid),
            Tanh(tanh::Tanh),
            LeakyRelu(leaky_relu::LeakyRelu),
        }
    };
}

/// A layer's definition in the language.
pub trait LayerDef: Clone + fmt::Debug + PartialEq + Sized {
    /// The names it answers to (`conv2d` and `conv1d` are one definition), each with
    /// its parameters, their defaults and a one-line doc.
    const SPECS: &'static [OpSpec];
    /// One call of each name with an input it accepts: `([2, 7, 6], "conv2d(3, 3)")`.
    /// Tests lower, run and export every layer through these.
    const EXAMPLES: &'static [(&'static [usize], &'static str)];
    /// The shape rule: checks the bound arguments against the input shape; the layer,
    /// its output shape and its parameter count.
    fn check(cx: &Cx) -> Result<(Self, Shape, usize)>;
    /// Its IR line, every default written out (`rrae check`, snapshots).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// Values per sample a training step keeps besides each layer's output, input and
    /// their gradients (which every layer is counted for): a convolution's columns.
    /// In f64, so that a model too large to run gives a large number, not an overflow.
    fn saved(&self, _input: &Shape, _output: &Shape) -> f64 {
        0.0
    }
    /// The `out` argument, for layers whose output channels or features it sets (the
    /// layer a wrong decoder output blames).
    fn out(&self) -> Option<usize> {
        None
    }
}

/// Every element of `specs`, concatenated (for [`LAYERS`], built at compile time).
const fn concat<const N: usize>(parts: &[&[OpSpec]]) -> [OpSpec; N] {
    const EMPTY: OpSpec = OpSpec {
        name: "",
        params: &[],
        positional: 0,
        doc: "",
    };
    let mut out = [EMPTY; N];
    let (mut i, mut p) = (0, 0);
    while p < parts.len() {
        let mut j = 0;
        while j < parts[p].len() {
            out[i] = parts[p][j];
            i += 1;
            j += 1;
        }
        p += 1;
    }
    out
}

macro_rules! define_layers {
    ($($variant:ident($module:ident::$ty:ident)),* $(,)?) => {
        $(pub mod $module;)*

        /// One layer of an encoder or decoder, checked.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Op {
            $($variant($module::$ty),)*
        }

        $(impl From<$module::$ty> for Op {
            fn from(op: $module::$ty) -> Op {
                Op::$variant(op)
            }
        })*

        const ROWS: usize = 0 $(+ <$module::$ty as LayerDef>::SPECS.len())*;

        /// The layers of encoder and decoder sequences, one row per name.
        pub const LAYERS: &[OpSpec] = &concat::<ROWS>(&[$(<$module::$ty as LayerDef>::SPECS,)*]);

        /// Every layer's examples (see [`LayerDef::EXAMPLES`]).
        pub const EXAMPLES: &[&[(&[usize], &str)]] = &[$(<$module::$ty as LayerDef>::EXAMPLES,)*];

        impl Op {
            /// Checks the layer `cx.b` names against its input; `None` for a name no
            /// layer has.
            pub fn check(cx: &Cx) -> Option<Result<(Op, Shape, usize)>> {
                $(if <$module::$ty as LayerDef>::SPECS.iter().any(|s| s.name == cx.b.op) {
                    return Some(<$module::$ty as LayerDef>::check(cx).map(|(l, s, p)| (l.into(), s, p)));
                })*
                None
            }

            /// See [`LayerDef::saved`].
            pub fn saved(&self, input: &Shape, output: &Shape) -> f64 {
                match self {
                    $(Op::$variant(l) => l.saved(input, output),)*
                }
            }

            /// See [`LayerDef::out`].
            pub fn out(&self) -> Option<usize> {
                match self {
                    $(Op::$variant(l) => l.out(),)*
                }
            }
        }

        impl fmt::Display for Op {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Op::$variant(l) => LayerDef::fmt(l, f),)*
                }
            }
        }
    };
}

/// A parameter-free element-wise layer (`relu`, `sigmoid`, `tanh`): its output has its
/// input's shape, and its catalog row and IR line are its name.
macro_rules! pointwise {
    ($ty:ident, $name:literal, $doc:literal) => {
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $ty;

        impl $crate::layer::LayerDef for $ty {
            const SPECS: &'static [$crate::signature::OpSpec] = &[$crate::signature::OpSpec {
                name: $name,
                params: &[],
                positional: 0,
                doc: $doc,
            }];
            const EXAMPLES: &'static [(&'static [usize], &'static str)] = &[(&[2, 3], $name)];

            fn check(
                cx: &$crate::layer::Cx,
            ) -> $crate::error::Result<($ty, $crate::shape::Shape, usize)> {
                Ok(($ty, cx.input.clone(), 0))
            }

            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($name)
            }
        }
    };
}

with_layers!(define_layers);

/// What checking a layer knows: its bound arguments (defaults filled in from its
/// spec) and its input's shape.
pub struct Cx<'a> {
    pub b: &'a Bound,
    pub input: &'a Shape,
}

impl Cx<'_> {
    /// "`layer` needs `expected`, found <input>", with a hint.
    pub fn needs(&self, expected: &'static str, help: &str) -> Error {
        ErrorKind::RankMismatch {
            span: self.b.span,
            layer: self.b.op.clone(),
            expected,
            found: self.input.clone(),
            help: help.into(),
        }
        .into()
    }

    /// Integer (or pair) argument `name` checked by [`crate::checks::positive`].
    pub fn positive(&self, name: &str, min: i64) -> Result<()> {
        crate::checks::positive(self.b, name, min)
    }

    /// `parts` multiplied, refused past what a tensor may hold.
    pub fn checked_params(&self, parts: &[usize]) -> Result<usize> {
        crate::checks::checked_params(parts, self.b.span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every catalog row has an example, and every example calls a row of its own
    /// definition (so the runtime's tests, which run the examples, cover every name).
    #[test]
    fn every_layer_name_has_an_example() {
        let called: Vec<&str> = EXAMPLES
            .iter()
            .flat_map(|e| e.iter())
            .map(|(_, call)| call.split('(').next().unwrap_or(call))
            .collect();
        for spec in LAYERS {
            assert!(
                called.contains(&spec.name),
                "no example calls `{}`",
                spec.name
            );
        }
        assert_eq!(LAYERS.len(), called.len(), "{called:?}");
    }
}
