//! A safe, bounds-checked front to the `gemm` crate: [`gemm`] for the convolution
//! kernels (with a shortcut for few output rows), [`product`] for the matrix-product
//! kernel (exactly as dfdx called it).
//!
//! Matrices are row-major slices; `Tr::Yes` reads the slice as the transpose of what
//! is stored, so `Aᵀ·B` needs no copy.

use gemm::Parallelism;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tr {
    No,
    Yes,
}

/// `c (m×n) = [c +] op(a) (m×k) · op(b) (k×n)`, every matrix row-major.
///
/// `a` holds `m×k` (or `k×m` when transposed), `b` holds `k×n` (or `n×k`).
/// Panics if a slice is too short: callers pass sizes derived from checked IR.
#[allow(clippy::too_many_arguments)]
pub fn gemm<E: 'static + Copy + num_traits::Zero + num_traits::One>(
    m: usize,
    n: usize,
    k: usize,
    a: &[E],
    ta: Tr,
    b: &[E],
    tb: Tr,
    c: &mut [E],
    accumulate: bool,
    threads: usize,
) {
    if !checked((m, n, k), a, b, c, accumulate) {
        return;
    }
    if m <= 4 && ta == Tr::No {
        // A few output rows (e.g. a 1-channel output convolution): the gemm crate
        // packs as for a large product and runs ~20× below these plain loops.
        small_m(m, n, k, a, b, tb, c, accumulate);
        return;
    }
    let par = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    raw((m, n, k), a, ta, b, tb, c, accumulate, E::one(), par);
}

/// `c = op(a)·op(b)` (`+ c` when `accumulate`) for `dims = (m, n, k)`, called exactly
/// as dfdx 0.13 calls the `gemm` crate: no small-matrix shortcut, `alpha` 0 or 1,
/// every rayon thread. The products of the linear layers and projections go through
/// here, so their results are bit for bit those of dfdx's matmul.
pub fn product<E: 'static + Copy + num_traits::Zero + num_traits::One>(
    (m, n, k): (usize, usize, usize),
    a: &[E],
    ta: Tr,
    b: &[E],
    tb: Tr,
    c: &mut [E],
    accumulate: bool,
) {
    if !checked((m, n, k), a, b, c, accumulate) {
        return;
    }
    let alpha = if accumulate { E::one() } else { E::zero() };
    let par = Parallelism::Rayon(rayon::current_num_threads());
    raw((m, n, k), a, ta, b, tb, c, accumulate, alpha, par);
}

/// Checks the lengths and handles the empty products; whether a product remains.
fn checked<E: Copy + num_traits::Zero>(
    (m, n, k): (usize, usize, usize),
    a: &[E],
    b: &[E],
    c: &mut [E],
    accumulate: bool,
) -> bool {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    if k == 0 && !accumulate {
        c[..m * n].iter_mut().for_each(|x| *x = E::zero());
    }
    m > 0 && n > 0 && k > 0
}

/// The `gemm` crate's product on checked, non-empty operands.
#[allow(clippy::too_many_arguments)]
fn raw<E: 'static + Copy + num_traits::Zero + num_traits::One>(
    (m, n, k): (usize, usize, usize),
    a: &[E],
    ta: Tr,
    b: &[E],
    tb: Tr,
    c: &mut [E],
    accumulate: bool,
    alpha: E,
    par: Parallelism,
) {
    // (row stride, column stride) of each operand as the product reads it.
    let (a_rs, a_cs) = match ta {
        Tr::No => (k as isize, 1),
        Tr::Yes => (1, m as isize),
    };
    let (b_rs, b_cs) = match tb {
        Tr::No => (n as isize, 1),
        Tr::Yes => (1, k as isize),
    };
    // SAFETY: `checked` verified the lengths, and the strides address exactly m×k,
    // k×n and m×n elements of the three slices; `c` does not alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            alpha,
            E::one(),
            false,
            false,
            false,
            par,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn small_m<E: 'static + Copy + num_traits::Zero + num_traits::One>(
    m: usize,
    n: usize,
    k: usize,
    a: &[E],
    b: &[E],
    tb: Tr,
    c: &mut [E],
    accumulate: bool,
) {
    for i in 0..m {
        let row = &mut c[i * n..(i + 1) * n];
        if !accumulate {
            row.iter_mut().for_each(|x| *x = E::zero());
        }
        let ar = &a[i * k..(i + 1) * k];
        match tb {
            // Row axpys: c_i += a_ip · b_p, contiguous and vectorisable.
            Tr::No => {
                for (p, &av) in ar.iter().enumerate() {
                    for (x, &bv) in row.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                        *x = *x + av * bv;
                    }
                }
            }
            // Dot products with the rows of b.
            Tr::Yes => {
                for (j, x) in row.iter_mut().enumerate() {
                    let br = &b[j * k..(j + 1) * k];
                    *x = ar.iter().zip(br).fold(*x, |s, (&p, &q)| s + p * q);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::matmul::tests::naive;

    #[test]
    fn all_transpositions_match_naive_product() {
        for m in [1, 3, 5] {
            check(m, 7, 3);
        }
    }

    fn check(m: usize, n: usize, k: usize) {
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.91).cos()).collect();
        for ta in [Tr::No, Tr::Yes] {
            for tb in [Tr::No, Tr::Yes] {
                let want = naive(m, n, k, &a, ta, &b, tb);
                let mut c = vec![1.0; m * n];
                gemm(m, n, k, &a, ta, &b, tb, &mut c, true, 1);
                for (x, w) in c.iter().zip(&want) {
                    assert!((x - (w + 1.0)).abs() < 1e-12, "{ta:?} {tb:?}");
                }
                gemm(m, n, k, &a, ta, &b, tb, &mut c, false, 2);
                for (x, w) in c.iter().zip(&want) {
                    assert!((x - w).abs() < 1e-12, "{ta:?} {tb:?}");
                }
            }
        }
    }
}
