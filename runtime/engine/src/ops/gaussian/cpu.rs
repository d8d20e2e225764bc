//! The host kernels of the Gaussian latent, element by element (the KL summed in f64).

use super::Cols;
use crate::device::Cpu;
use crate::pool::Buf;
use crate::tensor::Real;

fn zip3<E: Real>(a: &Buf<E>, b: &Buf<E>, c: &Buf<E>, f: impl Fn(f64, f64, f64) -> f64) -> Buf<E> {
    Buf::from_vec(
        a.iter()
            .zip(b.iter())
            .zip(c.iter())
            .map(|((x, y), z)| E::of(f(x.f64(), y.f64(), z.f64())))
            .collect(),
    )
}

impl<E: Real> super::GaussianKernel<E> for Cpu {
    fn reparameterise(&self, mean: &Buf<E>, logvar: &Buf<E>, eps: &Buf<E>) -> Buf<E> {
        zip3(mean, logvar, eps, |m, v, e| m + e * (0.5 * v).exp())
    }

    fn reparameterise_backward(&self, logvar: &Buf<E>, eps: &Buf<E>, g: &Buf<E>) -> Buf<E> {
        zip3(logvar, eps, g, |v, e, g| g * 0.5 * e * (0.5 * v).exp())
    }

    fn kl_forward(&self, mean: &Buf<E>, logvar: &Buf<E>, cols: Cols, beta: f64) -> f64 {
        let sum: f64 = mean
            .iter()
            .zip(logvar.iter())
            .enumerate()
            .filter(|(i, _)| cols.counts(*i))
            .map(|(_, (m, v))| {
                let (m, v) = (m.f64(), v.f64());
                -0.5 * (1.0 + v - m * m - v.exp())
            })
            .sum();
        beta * sum
    }

    fn kl_backward(
        &self,
        mean: &Buf<E>,
        logvar: &Buf<E>,
        cols: Cols,
        beta: f64,
        g: f64,
    ) -> (Buf<E>, Buf<E>) {
        let s = beta * g;
        let on = |i: usize| if cols.counts(i) { s } else { 0.0 };
        let dm = Buf::from_vec(
            mean.iter()
                .enumerate()
                .map(|(i, m)| E::of(on(i) * m.f64()))
                .collect(),
        );
        let dv = Buf::from_vec(
            logvar
                .iter()
                .enumerate()
                .map(|(i, v)| E::of(on(i) * 0.5 * (v.f64().exp() - 1.0)))
                .collect(),
        );
        (dm, dv)
    }
}
