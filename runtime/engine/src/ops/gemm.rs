//! A safe, bounds-checked front to the `gemm` crate (the GEMM dfdx itself uses).
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
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].iter_mut().for_each(|x| *x = E::zero());
        }
        return;
    }
    if m <= 4 && ta == Tr::No {
        // A few output rows (e.g. a 1-channel output convolution): the gemm crate
        // packs as for a large product and runs ~20× below these plain loops.
        small_m(m, n, k, a, b, tb, c, accumulate);
        return;
    }
    // (row stride, column stride) of each operand as the product reads it.
    let (a_rs, a_cs) = match ta {
        Tr::No => (k as isize, 1),
        Tr::Yes => (1, m as isize),
    };
    let (b_rs, b_cs) = match tb {
        Tr::No => (n as isize, 1),
        Tr::Yes => (1, k as isize),
    };
    let par = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the lengths were checked above and the strides address exactly
    // m×k, k×n and m×n elements of the three slices; `c` does not alias `a` or `b`.
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
            E::one(),
            E::one(),
            false,
            false,
            false,
            par,
        );
    }
}

/// `c = [c +] a · op(b)` with `a` row-major `m × k`, for small `m`.
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

    fn naive(m: usize, n: usize, k: usize, a: &[f64], ta: Tr, b: &[f64], tb: Tr) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    let av = if ta == Tr::No {
                        a[i * k + p]
                    } else {
                        a[p * m + i]
                    };
                    let bv = if tb == Tr::No {
                        b[p * n + j]
                    } else {
                        b[j * k + p]
                    };
                    c[i * n + j] += av * bv;
                }
            }
        }
        c
    }

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
