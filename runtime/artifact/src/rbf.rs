//! Interpolation over scattered parameters: a cubic polyharmonic radial basis
//! function with a linear tail, in parameters scaled to the training box,
//!
//! ```text
//! f(p) = Σᵢ wᵢ ‖s(p) − xᵢ‖³ + v₀ + Σ_d v_d s_d(p),     s_d(p) = (p_d − lo_d)/(hi_d − lo_d)
//! ```
//!
//! exact at the training samples. Why this one: it needs no shape parameter to tune
//! (a Gaussian's width decides whether it is ill-conditioned or flat), it exists for
//! any number of parameters and any layout (a Delaunay triangulation is a library in
//! 3-D and none beyond), reproduces linear fields exactly, and its evaluation is a sum
//! a microcontroller does without a triangulation in memory. The scaling makes one
//! parameter in Hz and one in metres equally weighted. The weights are solved once, at
//! training time (`rrae_train::data::params`), where this module's [`evaluate`] also
//! interpolates the evaluation's latents, so both paths compute the same function.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The kernel: φ(r) = r³ of the squared distance.
pub fn kernel(r2: f64) -> f64 {
    r2 * libm::sqrt(r2)
}

/// `p` scaled to the training box; an error for a value outside it (coefficients
/// are interpolated, not extrapolated).
pub fn scale(lo: &[f64], hi: &[f64], p: &[f64]) -> Result<Vec<f64>, String> {
    if p.len() != lo.len() {
        return Err(format!("{} parameters given for {}", p.len(), lo.len()));
    }
    let mut out = Vec::with_capacity(p.len());
    for (d, ((&v, &a), &b)) in p.iter().zip(lo).zip(hi).enumerate() {
        if !(v >= a && v <= b) {
            return Err(format!(
                "parameter {d} = {v} lies outside the training range [{a}, {b}]; \
                 latents are interpolated, not extrapolated"
            ));
        }
        out.push(if b > a { (v - a) / (b - a) } else { 0.0 });
    }
    Ok(out)
}

/// The interpolant's `m` values at scaled point `s`: `centres` (`dim` per sample),
/// `weights` (`m` per sample), `linear` (`m` constants, then `m` per parameter).
pub fn evaluate(s: &[f64], centres: &[f64], weights: &[f64], linear: &[f64], m: usize) -> Vec<f64> {
    let dim = s.len();
    let mut out: Vec<f64> = linear.iter().take(m).copied().collect();
    out.resize(m, 0.0);
    for (d, &sd) in s.iter().enumerate() {
        for (j, o) in out.iter_mut().enumerate() {
            *o += sd * linear.get((d + 1) * m + j).copied().unwrap_or(0.0);
        }
    }
    for (c, w) in centres.chunks(dim.max(1)).zip(weights.chunks(m.max(1))) {
        let r2: f64 = c.iter().zip(s).map(|(a, b)| (a - b) * (a - b)).sum();
        let phi = kernel(r2);
        for (o, wj) in out.iter_mut().zip(w) {
            *o += phi * wj;
        }
    }
    out
}
