//! Host linear algebra in f64 (nalgebra): the thin SVD the latent operators and the
//! common basis are built on.

use nalgebra::DMatrix;

/// Thin SVD `A = U diag(s) Vᵀ` with `s` sorted in decreasing order.
pub struct Svd {
    /// `m × r`, r = min(m, n).
    pub u: DMatrix<f64>,
    pub s: Vec<f64>,
    /// `n × r`.
    pub v: DMatrix<f64>,
}

/// Thin SVD of `a`. A matrix with NaN or infinite entries gets NaN singular values
/// and vectors without entering the iteration (which would not terminate on them), so
/// the NaN reaches the loss and the trainer reports it.
pub fn svd(a: &DMatrix<f64>) -> Svd {
    let (m, n) = a.shape();
    let r = m.min(n);
    if a.iter().any(|v| !v.is_finite()) {
        return Svd {
            u: DMatrix::from_element(m, r, f64::NAN),
            s: vec![f64::NAN; r],
            v: DMatrix::from_element(n, r, f64::NAN),
        };
    }
    if r == 0 {
        return Svd {
            u: DMatrix::zeros(m, 0),
            s: vec![],
            v: DMatrix::zeros(n, 0),
        };
    }
    let d = a.clone().svd(true, true);
    let (Some(u), Some(vt)) = (d.u, d.v_t) else {
        unreachable!("nalgebra returns U and Vᵀ when asked for them") // ok: both were requested above
    };
    let mut order: Vec<usize> = (0..r).collect();
    order.sort_by(|&i, &j| d.singular_values[j].total_cmp(&d.singular_values[i]));
    let s = order.iter().map(|&i| d.singular_values[i]).collect();
    let u = DMatrix::from_fn(m, r, |row, c| u[(row, order[c])]);
    let v = DMatrix::from_fn(n, r, |row, c| vt[(order[c], row)]);
    Svd { u, s, v }
}

/// `rows × cols` row-major slice → matrix.
pub fn from_rows(data: &[f64], rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_row_slice(rows, cols, data)
}

/// Matrix → row-major vector.
pub fn to_rows(m: &DMatrix<f64>) -> Vec<f64> {
    let (r, c) = m.shape();
    let mut out = Vec::with_capacity(r * c);
    for i in 0..r {
        for j in 0..c {
            out.push(m[(i, j)]);
        }
    }
    out
}

/// The first `k` columns of `u` (fewer if `u` has fewer).
pub fn leading(u: &DMatrix<f64>, k: usize) -> DMatrix<f64> {
    u.columns(0, k.min(u.ncols())).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_input_gives_nan_without_hanging() {
        let mut a = DMatrix::from_element(4, 3, 1.0);
        a[(1, 2)] = f64::INFINITY;
        assert!(svd(&a).s.iter().all(|s| s.is_nan()));
        a[(1, 2)] = f64::NAN;
        assert!(svd(&a).u.iter().all(|s| s.is_nan()));
    }

    #[test]
    fn thin_svd_reconstructs_and_sorts() {
        for (m, n) in [(6, 4), (4, 6), (5, 5)] {
            let a = DMatrix::from_fn(m, n, |i, j| ((i * 7 + j * 3) as f64).sin());
            let d = svd(&a);
            assert!(d.s.windows(2).all(|w| w[0] >= w[1]));
            let back = &d.u
                * DMatrix::from_diagonal(&nalgebra::DVector::from_vec(d.s.clone()))
                * d.v.transpose();
            assert!((back - a).abs().max() < 1e-12);
        }
    }
}
