//! Host kernels of the penalties, with closed-form derivatives (sums in f64).

use super::EPS;
use crate::device::Cpu;
use crate::pool::Buf;
use crate::tensor::Real;
use crate::truncation::project_rank_k;

impl<E: Real> super::PenaltyKernel<E> for Cpu {
    fn sparsity_forward(&self, v: &Buf<E>, rho: f64, beta: f64) -> (f64, Buf<f64>) {
        let n = v.len().max(1) as f64;
        let m = v.iter().map(|x| x.f64()).sum::<f64>() / n;
        let value = beta
            * (rho * (rho / (m + EPS)).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - m + EPS)).ln());
        let dm = beta * (-rho / (m + EPS) + (1.0 - rho) / (1.0 - m + EPS)) / n;
        (value, Buf::from_vec(vec![dm; v.len()]))
    }

    fn contractive_forward(
        &self,
        hv: &Buf<E>,
        wv: &Buf<E>,
        l: usize,
        beta: f64,
    ) -> (f64, Buf<f64>, Buf<f64>) {
        let b = hv.len() / l.max(1);
        let inputs = wv.len() / l.max(1);
        let mut wsq = vec![0.0; l];
        for i in 0..inputs {
            for j in 0..l {
                wsq[j] += wv[i * l + j].f64().powi(2);
            }
        }
        let scale = beta / b.max(1) as f64;
        let mut value = 0.0;
        let mut a2 = vec![0.0; l]; // Σ_b (h(1−h))² per unit
        let mut dh = vec![0.0; hv.len()];
        for (i, hx) in hv.iter().enumerate() {
            let (h, j) = (hx.f64(), i % l);
            let a = h * (1.0 - h);
            value += a * a * wsq[j];
            a2[j] += a * a;
            dh[i] = scale * 2.0 * a * (1.0 - 2.0 * h) * wsq[j];
        }
        let dw: Vec<f64> = wv
            .iter()
            .enumerate()
            .map(|(i, w)| scale * 2.0 * w.f64() * a2[i % l])
            .collect();
        (scale * value, Buf::from_vec(dh), Buf::from_vec(dw))
    }

    fn weak_forward(&self, y: &Buf<E>, b: usize, l: usize, k: usize, beta: f64) -> (f64, Buf<f64>) {
        let yv: Vec<f64> = y.iter().map(|v| v.f64()).collect();
        let t = project_rank_k(&yv, b, l, k);
        let r: Vec<f64> = yv.iter().zip(&t.output).map(|(a, p)| a - p).collect();
        let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        // At ‖Y − Y_k‖ = 0 the norm has no gradient; zero is the subgradient.
        let scale = if norm > 0.0 { beta / norm } else { 0.0 };
        let d = r.iter().map(|v| scale * v).collect();
        (beta * norm, Buf::from_vec(d))
    }

    fn scaled(&self, d: &Buf<f64>, g: f64) -> Buf<E> {
        Buf::from_vec(d.iter().map(|v| E::of(g * v)).collect())
    }
}
