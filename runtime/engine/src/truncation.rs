//! The host truncated SVD of one batch's latents with its stable backward (the paper's
//! Appendix A; the constants are explained in `latent::svd_truncate`): the CPU kernel
//! of `svd_truncate`, the Weak RRAE's penalty and the trainer's common basis use it.

use crate::linalg::{from_rows, leading, svd, to_rows};
use nalgebra::DMatrix;

/// Relative cut under which a singular value counts as zero.
pub const ZERO_SINGULAR: f64 = 1e-11;
/// Absolute floor of the gaps the backward divides by.
pub const MIN_GAP: f64 = 1e-9;

/// One batch's truncation: what the backward needs and what the trainer keeps.
#[derive(Clone, Debug)]
pub struct Truncation {
    /// `U`, `L × r`: left singular vectors of `Y` (L × batch).
    pub u: DMatrix<f64>,
    /// All singular values of `Y`, decreasing.
    pub s: Vec<f64>,
    /// `V`, `batch × r`.
    pub v: DMatrix<f64>,
    /// Kept rank: `k` less the singular values that count as zero.
    pub kept: usize,
    /// `Y_kᵀ`, row-major `batch × L`.
    pub output: Vec<f64>,
}

impl Truncation {
    /// The kept basis `U_k` (L × kept).
    pub fn basis(&self) -> DMatrix<f64> {
        leading(&self.u, self.kept)
    }

    /// `∂ℓ/∂Yᵀ` (row-major `batch × L`) from `g = ∂ℓ/∂Y_kᵀ`.
    ///
    /// Singular vectors of zero singular values are arbitrary (and not always
    /// orthonormal as LAPACK-style routines return them), so they never enter: the
    /// discarded block `D` is the non-zero discarded values, and everything orthogonal
    /// to `U₁` and `U_D` is handled by the projector `I − U₁U₁ᵀ − U_DU_Dᵀ`.
    pub fn backward(&self, g: &[f64]) -> Vec<f64> {
        let (l, batch) = (self.u.nrows(), self.v.nrows());
        let g = from_rows(g, batch, l).transpose(); // L × batch
        let k = self.kept;
        if k == 0 {
            return vec![0.0; l * batch];
        }
        let s0 = self.s[0];
        let nonzero = self
            .s
            .iter()
            .take_while(|&&s| s > s0 * ZERO_SINGULAR)
            .count();
        let u1 = leading(&self.u, k);
        let v1 = leading(&self.v, k);
        let ud = self.u.columns(k, nonzero - k);
        let vd = self.v.columns(k, nonzero - k);
        let mut dy = &u1 * (u1.transpose() * &g);
        let gv1 = &g * &v1;
        let resid = &gv1 - &u1 * (u1.transpose() * &gv1) - ud * (ud.transpose() * &gv1);
        dy += resid * v1.transpose();
        let floor = MIN_GAP.max(1e-12 * s0 * s0);
        let c_dk = ud.transpose() * &gv1; // C_ji, j ∈ D, i < k
        let c_kd = u1.transpose() * &g * vd; // C_ij
        let mut m_dk = DMatrix::<f64>::zeros(nonzero - k, k);
        let mut m_kd = DMatrix::<f64>::zeros(k, nonzero - k);
        for i in 0..k {
            for j in 0..nonzero - k {
                let (si, sj) = (self.s[i], self.s[k + j]);
                let gap = si * si - sj * sj;
                if gap <= floor {
                    continue;
                }
                let f = (si * c_dk[(j, i)] + sj * c_kd[(i, j)]) / gap;
                m_dk[(j, i)] = si * f;
                m_kd[(i, j)] = sj * f;
            }
        }
        dy += ud * m_dk * v1.transpose() + &u1 * m_kd * vd.transpose();
        to_rows(&dy.transpose())
    }
}

impl Truncation {
    /// `∂ℓ/∂Y` (`L × batch`) from the gradient `gu` (`L × kept`) that reached the kept
    /// basis `U_k` itself, as the variational RRAE differentiates it (the library's
    /// `stable_SVD` rule, transposed): with `K = UᵀG − GᵀU` over the non-zero values,
    /// `∂Y = U M Vᵀ + (I − UUᵀ) G S_k⁻¹ V_kᵀ`, `M_jl = s_l K_jl / (s_l² − s_j²)`.
    /// A gap under the floor drops its term, as equal values do in the library: the
    /// basis is not differentiable there.
    pub fn basis_backward(&self, gu: &DMatrix<f64>) -> DMatrix<f64> {
        let (l, batch) = (self.u.nrows(), self.v.nrows());
        let k = self.kept.min(gu.ncols());
        if k == 0 {
            return DMatrix::zeros(l, batch);
        }
        let s0 = self.s[0];
        let r = self
            .s
            .iter()
            .take_while(|&&s| s > s0 * ZERO_SINGULAR)
            .count();
        let u = self.u.columns(0, r);
        let v = self.v.columns(0, r);
        let g = gu.columns(0, k);
        // UᵀG, r × k: the only non-zero columns of UᵀG padded to r × r.
        let utg = u.transpose() * g;
        let floor = MIN_GAP.max(1e-12 * s0 * s0);
        let mut m = DMatrix::<f64>::zeros(r, r);
        for j in 0..r {
            for c in 0..r {
                if j == c {
                    continue;
                }
                let a = if c < k { utg[(j, c)] } else { 0.0 };
                let b = if j < k { utg[(c, j)] } else { 0.0 };
                let (sj, sc) = (self.s[j], self.s[c]);
                let gap = sc * sc - sj * sj;
                if gap.abs() <= floor || a == b {
                    continue;
                }
                m[(j, c)] = sc * (a - b) / gap;
            }
        }
        let mut dy = u * m * v.transpose();
        let resid = g - u * &utg;
        let inv: Vec<f64> = (0..k).map(|i| 1.0 / self.s[i]).collect();
        let scaled = DMatrix::from_fn(l, k, |i, c| resid[(i, c)] * inv[c]);
        dy += scaled * self.v.columns(0, k).transpose();
        dy
    }
}

/// Truncates `x` (row-major `batch × L`, rows are samples) to rank `k`.
pub fn project_rank_k(x: &[f64], batch: usize, l: usize, k: usize) -> Truncation {
    let y = from_rows(x, batch, l).transpose();
    let d = svd(&y);
    let s0 = d.s.first().copied().unwrap_or(0.0);
    let kept =
        d.s.iter()
            .take(k)
            .take_while(|&&s| s0 > 0.0 && s > s0 * ZERO_SINGULAR)
            .count();
    let u1 = leading(&d.u, kept);
    let yk = &u1 * (u1.transpose() * &y);
    Truncation {
        output: to_rows(&yk.transpose()),
        u: d.u,
        s: d.s,
        v: d.v,
        kept,
    }
}
