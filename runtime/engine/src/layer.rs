//! A lowered layer: what encoder and decoder are lists of, over `(batch, features)`
//! matrices, with the parameter indices it reads.

use crate::ops::activation::Activation;
use rrae_artifact::Geometry;
use rrae_lang::ir::Ir;

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

impl Lowered {
    /// The sigmoid that ends the encoder of the Sparse and Contractive AEs (in training
    /// and at inference alike: the bottleneck is σ(Y)).
    pub fn latent_sigmoid(ir: &Ir) -> Lowered {
        Lowered {
            node: ir.latent.id,
            label: format!("%{} sigmoid (latent)", ir.latent.id),
            layer: Layer::Act(Activation::Sigmoid),
        }
    }
}
