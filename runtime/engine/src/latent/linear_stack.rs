//! `linear_stack(l)` (IRMAE): `l` bias-free L×L linear layers appended to the encoder,
//! so they run in training and at inference alike; the latent map itself is the
//! identity.

use super::{LatentForm, LatentKernels, LowerCx};
use crate::error::Result;
use crate::layer::linear::Dense;
use crate::layer::{Layer, Lowered};
use crate::params::ParamSet;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use rrae_lang::latent::identity::Identity;
use rrae_lang::latent::linear_stack::LinearStack;

pub use crate::tape::TapeKernel as Kernel;

impl LatentForm for LinearStack {
    type State = ();

    fn lower(&self, cx: &mut LowerCx) -> Result<()> {
        // PyTorch's default initialisation, like every linear layer.
        let (d, id) = (cx.ir.latent.dim, cx.ir.latent.id);
        for i in 0..self.l {
            let w = cx.params.push(
                format!("latent.{i}.weight"),
                vec![d, d],
                cx.init.uniform(d * d, d),
            );
            cx.encoder.push(Lowered {
                node: id,
                label: format!("%{id} linear_stack[{i}] (no bias)"),
                layer: Layer::Linear(Dense { w, b: None }),
            });
        }
        Ok(())
    }

    // Past lowering the latent map is the identity.
    fn forward<D: LatentKernels<E>, E: Real>(
        s: &(),
        tape: &mut Tape<D, E>,
        y: Var,
        params: &[Var],
    ) -> Result<(Var, Option<Var>)> {
        <Identity as LatentForm>::forward(s, tape, y, params)
    }

    fn rank(s: &()) -> Option<usize> {
        <Identity as LatentForm>::rank(s)
    }

    fn sharding(_: &()) -> super::Sharding {
        super::Sharding::GlobalBatch
    }

    fn label(s: &(), params: &ParamSet) -> String {
        <Identity as LatentForm>::label(s, params)
    }
}
