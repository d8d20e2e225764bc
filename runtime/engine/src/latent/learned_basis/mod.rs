//! The Learn-basis AE's latent map: `Y ↦ Û Ûᵀ Y` with a trainable `B` (L × k) whose
//! columns are normalised, `Û = B diag(‖b_j‖)⁻¹`. Unlike the SVD projector the basis
//! is a parameter, so the backward reaches both `Y` and `B`:
//!
//! with rows as samples, `z = y Û Ûᵀ`, `G = ∂ℓ/∂z`:
//! `∂ℓ/∂y = G Û Ûᵀ`, `∂ℓ/∂Û = (yᵀG + Gᵀy) Û`, and through the normalisation
//! `∂ℓ/∂b_j = (I − û_j û_jᵀ) ∂ℓ/∂û_j / ‖b_j‖`.

mod cpu;
pub(crate) mod cuda;
#[cfg(test)]
mod tests;

use crate::device::Device;
use crate::tape::TapeKernel;
use crate::tape::{Tape, Var};
use crate::tensor::Real;
use nalgebra::DMatrix;

/// The learned projection on a device.
pub trait LearnedBasisKernel<E: Real>: Device {
    /// What the backward needs: `y`, `B` and `Û`.
    type Saved: Send + Sync + 'static;

    /// `y Û Ûᵀ` for `y` (`n × l`) and `b` (`l × k`).
    fn learned_projection_forward(
        &self,
        y: &Self::Buf<E>,
        b: &Self::Buf<E>,
        n: usize,
        l: usize,
        k: usize,
    ) -> (Self::Buf<E>, Self::Saved);

    /// `(∂ℓ/∂y, ∂ℓ/∂B)` from the output gradient `g`.
    fn learned_projection_backward(
        &self,
        saved: &Self::Saved,
        g: &Self::Buf<E>,
    ) -> (Self::Buf<E>, Self::Buf<E>);
}

/// `B` with unit columns (a zero column stays zero).
pub fn normalised(b: &DMatrix<f64>) -> DMatrix<f64> {
    let mut u = b.clone();
    for mut c in u.column_iter_mut() {
        let n = c.norm();
        if n > 0.0 {
            c /= n;
        }
    }
    u
}

/// `y Û Ûᵀ` for `y` (`batch × L`) and the parameter `b` (`L × k`).
pub fn learned_projection<D: LearnedBasisKernel<E> + TapeKernel<E>, E: Real>(
    tape: &mut Tape<D, E>,
    y: Var,
    b: Var,
) -> Var {
    let (n, l) = y.shape();
    let k = b.cols;
    let (out, saved) = tape
        .dev()
        .learned_projection_forward(tape.value(y), tape.value(b), n, l, k);
    let out = tape.output(out, n, l, &[y, b]);
    tape.on_backward(out, move |pass| {
        if let Some(g) = pass.take_grad(out) {
            let (dy, db) = pass.dev().learned_projection_backward(&saved, &g);
            pass.add_grad(y, dy);
            pass.add_grad(b, db);
        }
        Ok(())
    });
    out
}

pub use self::LearnedBasisKernel as Kernel;

/// The training form: the basis parameter `b` (L × k), registered after the encoder's.
impl super::LatentForm for rrae_lang::latent::learned_basis::LearnedBasis {
    type State = State;

    fn lower(&self, _: &mut super::LowerCx) -> crate::Result<State> {
        Ok(State {
            k: self.k,
            b: usize::MAX,
        })
    }

    fn latent_params(s: &mut State, cx: &mut super::LowerCx) {
        let d = cx.ir.latent.dim;
        s.b = cx.params.push(
            "latent.basis.weight".into(),
            vec![d, s.k],
            cx.init.uniform(d * s.k, d),
        );
    }

    fn forward<D: super::LatentKernels<E>, E: Real>(
        s: &State,
        tape: &mut Tape<D, E>,
        y: Var,
        params: &[Var],
    ) -> crate::Result<(Var, Option<Var>)> {
        Ok((learned_projection(tape, y, params[s.b]), None))
    }

    fn rank(s: &State) -> Option<usize> {
        Some(s.k)
    }

    fn sharding(_: &State) -> crate::latent::Sharding {
        crate::latent::Sharding::GlobalBatch
    }

    fn label(s: &State, _: &crate::params::ParamSet) -> String {
        format!("Û Ûᵀ Y, Û = latent.basis.weight normalised (L × {})", s.k)
    }

    /// Inference projects on the trained basis, columns normalised.
    fn basis(s: &State, params: &crate::params::ParamSet) -> super::BasisSource {
        match params.params.get(s.b) {
            Some(p) => {
                let m = crate::linalg::from_rows(
                    &p.data.iter().map(|&v| v as f64).collect::<Vec<_>>(),
                    p.shape[0],
                    p.shape[1],
                );
                super::BasisSource::Trained(normalised(&m))
            }
            None => super::BasisSource::None,
        }
    }
}

/// The rank and the parameter index of the basis `B`.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub k: usize,
    pub b: usize,
}
