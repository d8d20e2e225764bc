//! The zoo's loss penalties, as host ops with closed-form backwards (sums in f64):
//!
//! - [`sparsity`] (Sparse AE): `β·[ρ ln(ρ/(m+ε)) + (1−ρ) ln((1−ρ)/(1−m+ε))]`, with `m` the
//!   mean of the sigmoid latent over the batch and the latent units, ε = 1e-8;
//! - [`contractive`] (Contractive AE, Rifai et al.): for `h = σ(W x + b)`, the squared
//!   Frobenius norm of ∂h/∂x, `Σ_j (h_j(1 − h_j))² Σ_i W_ij²`, averaged over the batch,
//!   times β. `W` is the encoder's last linear weight, stored `[in, L]`;
//! - [`weak`] (Weak RRAE): `β·‖Y − Y_k‖_F`, the batch's distance to its rank-k
//!   truncation; its gradient is `β (Y − Y_k)/‖Y − Y_k‖` (the tail energy's gradient).

#[cfg(test)]
mod tests;

use crate::ops::loss::Scalar;
use crate::ops::svd_truncate::project_rank_k;
use crate::ops::tape::{accumulate, grad_of};
use crate::tensor::{Mat, Real};
use dfdx::prelude::*;

const EPS: f64 = 1e-8;

/// A scalar output whose backward scales `d` (∂value/∂input) by the incoming gradient.
fn scalar_op<E: Real, T: Tape<E, Cpu>>(
    x: Mat<E, T>,
    value: f64,
    dx: Vec<f64>,
    extra: Option<(&Mat<E>, Vec<f64>)>,
) -> Scalar<E, T> {
    let (x, mut tape) = x.split_tape();
    let out: Scalar<E, NoneTape> = x.device().tensor_from_vec(vec![E::of(value)], ());
    if T::OWNS_TAPE {
        let (xg, og) = (x.ghost(), out.ghost());
        let extra = extra.map(|(w, dw)| (w.ghost(), dw));
        tape.add_backward_op(move |grads| {
            let g = grad_of!(grads, og)[0].f64();
            let d: Vec<E> = dx.iter().map(|v| E::of(g * v)).collect();
            accumulate!(grads, xg, d);
            if let Some((wg, dw)) = &extra {
                let d: Vec<E> = dw.iter().map(|v| E::of(g * v)).collect();
                accumulate!(grads, (*wg), d);
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// The Sparse AE's KL penalty on the sigmoid latent `z` (`batch × L`, values in (0, 1)).
pub fn sparsity<E: Real, T: Tape<E, Cpu>>(z: Mat<E, T>, rho: f64, beta: f64) -> Scalar<E, T> {
    let v = z.as_vec();
    let n = v.len().max(1) as f64;
    let m = v.iter().map(|x| x.f64()).sum::<f64>() / n;
    let value =
        beta * (rho * (rho / (m + EPS)).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - m + EPS)).ln());
    let dm = beta * (-rho / (m + EPS) + (1.0 - rho) / (1.0 - m + EPS)) / n;
    scalar_op(z, value, vec![dm; v.len()], None)
}

/// The contractive penalty of `h = σ(x W + b)` (`batch × L`) with `W` (`in × L`).
pub fn contractive<E: Real, T: Tape<E, Cpu>>(h: Mat<E, T>, w: &Mat<E>, beta: f64) -> Scalar<E, T> {
    let (b, l) = *h.shape();
    let (hv, wv) = (h.as_vec(), w.as_vec());
    let inputs = wv.len() / l.max(1);
    let mut wsq = vec![0.0; l];
    for i in 0..inputs {
        for j in 0..l {
            wsq[j] += wv[i * l + j].f64().powi(2);
        }
    }
    let scale = beta / b.max(1) as f64;
    let mut value = 0.0;
    let mut a2 = vec![0.0; l]; // Σ_b (h(1−h))² per unit
    let mut dh = vec![0.0; hv.len()];
    for (i, hx) in hv.iter().enumerate() {
        let (h, j) = (hx.f64(), i % l);
        let a = h * (1.0 - h);
        value += a * a * wsq[j];
        a2[j] += a * a;
        dh[i] = scale * 2.0 * a * (1.0 - 2.0 * h) * wsq[j];
    }
    let dw: Vec<f64> = wv
        .iter()
        .enumerate()
        .map(|(i, w)| scale * 2.0 * w.f64() * a2[i % l])
        .collect();
    scalar_op(h, scale * value, dh, Some((w, dw)))
}

/// The Weak RRAE penalty `β·‖Y − Y_k‖_F` of the batch latent `y` (`batch × L`).
pub fn weak<E: Real, T: Tape<E, Cpu>>(y: Mat<E, T>, k: usize, beta: f64) -> Scalar<E, T> {
    let (b, l) = *y.shape();
    let yv: Vec<f64> = y.as_vec().iter().map(|v| v.f64()).collect();
    let t = project_rank_k(&yv, b, l, k);
    let r: Vec<f64> = yv.iter().zip(&t.output).map(|(a, p)| a - p).collect();
    let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
    // At ‖Y − Y_k‖ = 0 the norm has no gradient; zero is the subgradient.
    let scale = if norm > 0.0 { beta / norm } else { 0.0 };
    let d = r.iter().map(|v| scale * v).collect();
    scalar_op(y, beta * norm, d, None)
}
