use super::{matmul, MatmulKernel, Tr};
use crate::device::matrix::{assert_close, down, test_device, up};
use crate::ops::gradcheck::{max_error, noise, Case};

/// The product by its definition, for the kernel tests here and in `ops::gemm`.
pub fn naive(m: usize, n: usize, k: usize, a: &[f64], ta: Tr, b: &[f64], tb: Tr) -> Vec<f64> {
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

/// Every transposition, written and accumulated, against the naive triple loop; sizes
/// from one row to ones the GEMM blocks and splits over threads.
fn kernel_matches_the_naive_product<D: MatmulKernel<f64>>(dev: &D) {
    for (m, n, k) in [(1, 7, 3), (5, 1, 4), (3, 5, 1), (37, 29, 41), (130, 70, 90)] {
        let a = noise(m * k, 1);
        let b = noise(k * n, 2);
        for ta in [Tr::No, Tr::Yes] {
            for tb in [Tr::No, Tr::Yes] {
                let want = naive(m, n, k, &a, ta, &b, tb);
                let (au, bu) = (up(dev, &a), up(dev, &b));
                let mut c = dev.zeros(m * n);
                dev.matmul_into((m, n, k), &au, ta, &bu, tb, &mut c, false);
                let what = format!("{m}×{n}×{k} {ta:?} {tb:?}");
                assert_close(&down(dev, &c), &want, 1e-12, &what);
                dev.matmul_into((m, n, k), &au, ta, &bu, tb, &mut c, true);
                let twice: Vec<f64> = want.iter().map(|w| 2.0 * w).collect();
                assert_close(
                    &down(dev, &c),
                    &twice,
                    1e-12,
                    &format!("{what} accumulated"),
                );
            }
        }
    }
}
test_device!(kernel_matches_the_naive_product);

#[test]
fn backward_matches_finite_differences() {
    let case = Case {
        x: noise(6 * 4, 1),
        rows: 6,
        cols: 4,
        mats: vec![(noise(4 * 3, 2), 4, 3)],
        vecs: vec![],
    };
    let err = max_error(&case, |t, x, p| {
        matmul(t, x, p.mats[0]).unwrap_or_else(|e| panic!("{e}")) // ok: test
    });
    assert!(err < 1e-8, "{err}");
}

#[test]
fn mismatched_inner_dimensions_are_an_error() {
    let mut tape = crate::tape::Tape::<_, f64>::new(crate::device::Cpu);
    let x = tape.leaf(crate::pool::Buf::from_vec(vec![0.0; 6]), 2, 3);
    let w = tape.leaf(crate::pool::Buf::from_vec(vec![0.0; 8]), 4, 2);
    assert!(matmul(&mut tape, x, w).is_err());
}
