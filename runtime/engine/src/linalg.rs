//! Host linear algebra in f64: the thin SVD the latent operators and the common basis
//! are built on (nalgebra's for small matrices, faer's blocked one for large).

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
    let (u, s, v) = if m * n * r > BLOCKED_FROM {
        blocked(a).unwrap_or_else(|| unblocked(a))
    } else {
        unblocked(a)
    };
    let mut order: Vec<usize> = (0..r).collect();
    order.sort_by(|&i, &j| s[j].total_cmp(&s[i]));
    Svd {
        u: DMatrix::from_fn(m, r, |row, c| u[(row, order[c])]),
        s: order.iter().map(|&i| s[i]).collect(),
        v: DMatrix::from_fn(n, r, |row, c| v[(row, order[c])]),
    }
}

/// Above this many multiply-adds (m·n·min(m, n)) the SVD is faer's blocked one;
/// up to it, nalgebra's unblocked one. Measured on one thread (`svd_bench`'s sizes and
/// docs/scaling.md): up to 64 × 64 the two are within 15 % of each other, and keeping
/// nalgebra there keeps every shipped network's trace (L and B ≤ 64) the bits it was;
/// above, faer's is faster, 2× at 512 × 64, 13× at 512 × 1024, 22× at 2500 × 4096.
pub const BLOCKED_FROM: usize = 64 * 64 * 64;

/// nalgebra's SVD: `(U, s, V)`, thin and unsorted.
fn unblocked(a: &DMatrix<f64>) -> (DMatrix<f64>, Vec<f64>, DMatrix<f64>) {
    let d = a.clone().svd(true, true);
    let (Some(u), Some(vt)) = (d.u, d.v_t) else {
        unreachable!("nalgebra returns U and Vᵀ when asked for them") // ok: both were requested above
    };
    (
        u,
        d.singular_values.iter().copied().collect(),
        vt.transpose(),
    )
}

/// faer's blocked SVD, thin, on one thread: faer's threaded form gives other bits for
/// each number of threads (measured), and a run must be the same bits on 1 and 2
/// threads and on every rank (each rank computes the global batch's SVD). `None` if
/// faer's iteration does not converge (nalgebra's is then used).
fn blocked(a: &DMatrix<f64>) -> Option<(DMatrix<f64>, Vec<f64>, DMatrix<f64>)> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::svd::{svd as faer_svd, svd_scratch, ComputeSvdVectors};
    let (m, n) = a.shape();
    let r = m.min(n);
    let view = faer::MatRef::from_column_major_slice(a.as_slice(), m, n);
    let mut u = faer::Mat::<f64>::zeros(m, r);
    let mut v = faer::Mat::<f64>::zeros(n, r);
    let mut s = faer::diag::Diag::<f64>::zeros(r);
    let thin = ComputeSvdVectors::Thin;
    let par = faer::Par::Seq;
    let mut scratch = MemBuffer::new(svd_scratch::<f64>(
        m,
        n,
        thin,
        thin,
        par,
        Default::default(),
    ));
    faer_svd(
        view,
        s.as_mut(),
        Some(u.as_mut()),
        Some(v.as_mut()),
        par,
        MemStack::new(&mut scratch),
        Default::default(),
    )
    .ok()?;
    let s = s.column_vector().iter().copied().collect();
    Some((
        DMatrix::from_fn(m, r, |i, j| u[(i, j)]),
        s,
        DMatrix::from_fn(n, r, |i, j| v[(i, j)]),
    ))
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

    /// The two factorisations agree where the switch happens and beyond: the same
    /// singular values, and singular vectors equal up to sign.
    #[test]
    fn blocked_and_unblocked_agree() {
        for (m, n) in [(64, 65), (65, 64), (170, 40), (40, 170), (200, 200)] {
            assert!(m * n * m.min(n) > BLOCKED_FROM);
            let a = DMatrix::from_fn(m, n, |i, j| {
                ((i * 7 + j * 3) as f64).sin() + (i * j) as f64 * 1e-3
            });
            let (ua, sa, va) = unblocked(&a);
            let Some((ub, sb, vb)) = blocked(&a) else {
                panic!("faer did not converge on {m} × {n}"); // ok: test
            };
            let sorted = |s: &[f64]| {
                let mut s = s.to_vec();
                s.sort_by(|x, y| y.total_cmp(x));
                s
            };
            let (sa_s, sb_s) = (sorted(&sa), sorted(&sb));
            for (x, y) in sa_s.iter().zip(&sb_s) {
                assert!(
                    (x - y).abs() <= 1e-12 * sa_s[0],
                    "{m} × {n}: {x} against {y}"
                );
            }
            // Vectors of well separated singular values: equal up to sign.
            let rank = |s: &[f64], i: usize| {
                let mut idx: Vec<usize> = (0..s.len()).collect();
                idx.sort_by(|&p, &q| s[q].total_cmp(&s[p]));
                idx[i]
            };
            for i in 0..3 {
                let (ia, ib) = (rank(&sa, i), rank(&sb, i));
                let dot = ua.column(ia).dot(&ub.column(ib));
                assert!(
                    (dot.abs() - 1.0).abs() < 1e-9,
                    "{m} × {n}: u{i} · u{i} = {dot}"
                );
                let dot = va.column(ia).dot(&vb.column(ib));
                assert!(
                    (dot.abs() - 1.0).abs() < 1e-9,
                    "{m} × {n}: v{i} · v{i} = {dot}"
                );
            }
            let d = svd(&a);
            let back = &d.u
                * DMatrix::from_diagonal(&nalgebra::DVector::from_vec(d.s.clone()))
                * d.v.transpose();
            assert!((back - &a).abs().max() < 1e-11 * d.s[0]);
        }
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
