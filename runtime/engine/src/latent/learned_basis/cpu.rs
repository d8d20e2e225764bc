//! Host kernel of the learned projection, in f64 with nalgebra.

use super::normalised;
use crate::device::Cpu;
use crate::linalg::{from_rows, to_rows};
use crate::pool::Buf;
use crate::tensor::Real;
use nalgebra::DMatrix;

/// `y` (`n × l`), `B` (`l × k`) and `Û`, in f64.
pub struct Saved {
    ym: DMatrix<f64>,
    bm: DMatrix<f64>,
    u: DMatrix<f64>,
}

fn to64<E: Real>(v: &[E]) -> Vec<f64> {
    v.iter().map(|x| x.f64()).collect()
}

fn from64<E: Real>(m: &DMatrix<f64>) -> Buf<E> {
    Buf::from_vec(to_rows(m).into_iter().map(E::of).collect())
}

impl<E: Real> super::LearnedBasisKernel<E> for Cpu {
    type Saved = Saved;

    fn learned_projection_forward(
        &self,
        y: &Buf<E>,
        b: &Buf<E>,
        n: usize,
        l: usize,
        k: usize,
    ) -> (Buf<E>, Saved) {
        let ym = from_rows(&to64(y), n, l);
        let bm = from_rows(&to64(b), l, k);
        let u = normalised(&bm);
        let z = &ym * &u * u.transpose();
        (from64(&z), Saved { ym, bm, u })
    }

    fn learned_projection_backward(&self, s: &Saved, g: &Buf<E>) -> (Buf<E>, Buf<E>) {
        let Saved { ym, bm, u } = s;
        let (n, l, k) = (ym.nrows(), ym.ncols(), u.ncols());
        let g = from_rows(&to64(g), n, l);
        let dy = &g * u * u.transpose();
        let du = (ym.transpose() * &g + g.transpose() * ym) * u;
        let mut db = DMatrix::<f64>::zeros(l, k);
        for j in 0..k {
            let norm = bm.column(j).norm();
            if norm > 0.0 {
                let (uj, dj) = (u.column(j), du.column(j));
                let t = (dj - uj * uj.dot(&dj)) / norm;
                db.set_column(j, &t);
            }
        }
        (from64(&dy), from64(&db))
    }
}
