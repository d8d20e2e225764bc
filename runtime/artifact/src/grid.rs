//! The reduced-order model's path: a parameter value → the basis coefficients
//! interpolated multilinearly over the training parameter grid → the decoded field
//! (the authors' `AE_interpolate`). The weights are computed here once, for the
//! artifact's [`View::coefficients_at`] and for the trainer's evaluation, which reads
//! them through `rrae_train::data::params::Grid`.

use crate::{ArchivedParamGrid, ArchivedParamMap, Error, View};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The grid cell holding `q` (one value per axis; each axis sorted, distinct values)
/// as its corners: `(flat index, weight)`, the weights multilinear and summing to 1.
/// The flat index of a grid point counts the last axis fastest; a value off its axis's
/// range is an error (latents are interpolated, not extrapolated).
pub fn corners<A: AsRef<[f64]>>(axes: &[A], q: &[f64]) -> Result<Vec<(usize, f64)>, String> {
    // Per axis: the lower index and the fraction t toward the next value.
    let mut cell = Vec::with_capacity(axes.len());
    for (d, (a, &v)) in axes.iter().zip(q).enumerate() {
        let a = a.as_ref();
        let (Some(&lo), Some(&hi)) = (a.first(), a.last()) else {
            return Err(format!("parameter {d} has no grid values"));
        };
        if !(v >= lo && v <= hi) {
            return Err(format!(
                "parameter {d} = {v} lies outside the training range [{lo}, {hi}]; \
                 latents are interpolated, not extrapolated"
            ));
        }
        if a.len() == 1 {
            cell.push((0, 0.0, false));
            continue;
        }
        let i = a
            .partition_point(|&x| x <= v)
            .saturating_sub(1)
            .min(a.len() - 2);
        cell.push((i, (v - a[i]) / (a[i + 1] - a[i]), true));
    }
    let mut out = Vec::with_capacity(1 << cell.len());
    for mask in 0..1usize << cell.len() {
        let (mut flat, mut w) = (0, 1.0);
        let mut valid = true;
        for (d, (a, &(i, t, two))) in axes.iter().zip(&cell).enumerate() {
            let up = mask >> d & 1 == 1;
            valid &= two || !up;
            flat = flat * a.as_ref().len() + i + usize::from(up && two);
            w *= if up { t } else { 1.0 - t };
        }
        if valid {
            out.push((flat, w));
        }
    }
    Ok(out)
}

impl View<'_> {
    /// The number of parameters of the training samples; 0 for a model trained on data
    /// without parameters (no reduced-order path).
    pub fn parameters(&self) -> usize {
        match self.artifact().parameters.as_ref() {
            Some(ArchivedParamMap::Grid(g)) => g.axes.len(),
            Some(ArchivedParamMap::Scattered(r)) => r.lo.len(),
            None => 0,
        }
    }

    /// The basis coefficients at parameter value `p`: interpolated multilinearly from
    /// the training samples' coefficients at the corners of its grid cell, or by the
    /// radial basis function of scattered training parameters ([`crate::rbf`]).
    pub fn coefficients_at(&self, p: &[f64]) -> Result<Vec<f32>, Error> {
        let Some(map) = self.artifact().parameters.as_ref() else {
            return Err(Error::Inconsistent(
                "this model was trained on data without parameters: it has no parameter map".into(),
            ));
        };
        if p.len() != self.parameters() {
            return Err(Error::Input {
                op: "coefficients_at",
                expected: self.parameters(),
                got: p.len(),
            });
        }
        let k = self.k();
        let out = match map {
            ArchivedParamMap::Grid(g) => grid_at(g, p, k)?,
            ArchivedParamMap::Scattered(r) => {
                let native = |v: &rkyv::vec::ArchivedVec<rkyv::rend::f64_le>| -> Vec<f64> {
                    v.iter().map(|x| x.to_native()).collect()
                };
                let (lo, hi) = (native(&r.lo), native(&r.hi));
                let (centres, weights, linear) =
                    (native(&r.centres), native(&r.weights), native(&r.linear));
                let n = centres.len() / lo.len().max(1);
                if weights.len() != n * k || linear.len() != (lo.len() + 1) * k {
                    return Err(Error::Inconsistent(format!(
                        "the parameter map holds {} weights and {} linear terms for {n} samples, {} parameters and k = {k}",
                        weights.len(),
                        linear.len(),
                        lo.len()
                    )));
                }
                let s = crate::rbf::scale(&lo, &hi, p).map_err(Error::Inconsistent)?;
                crate::rbf::evaluate(&s, &centres, &weights, &linear, k)
            }
        };
        Ok(out.into_iter().map(|v| v as f32).collect())
    }

    /// The decoded field at parameter value `p`: [`View::coefficients_at`], decoded.
    pub fn decode_at(&self, p: &[f64]) -> Result<Vec<f32>, Error> {
        self.decode(&self.coefficients_at(p)?)
    }
}

/// Multilinear interpolation of a grid's coefficients at `p`.
fn grid_at(g: &ArchivedParamGrid, p: &[f64], k: usize) -> Result<Vec<f64>, Error> {
    let axes: Vec<Vec<f64>> = g
        .axes
        .iter()
        .map(|a| a.iter().map(|v| v.to_native()).collect())
        .collect();
    let corners = corners(&axes, p).map_err(Error::Inconsistent)?;
    let mut out = alloc::vec![0.0f64; k];
    for (flat, w) in corners {
        let Some(row) = g.coefficients.get(flat * k..(flat + 1) * k) else {
            return Err(Error::Inconsistent(format!(
                "the grid's coefficients end before point {flat}"
            )));
        };
        for (o, c) in out.iter_mut().zip(row) {
            *o += w * c.to_native() as f64;
        }
    }
    Ok(out)
}
