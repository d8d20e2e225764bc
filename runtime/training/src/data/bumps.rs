//! The paper's synthetic set, as the authors' library builds it: 2-D Gaussian bumps
//! `exp(−((x−x0)² + (y−y0)²)/(2σ²))` on a `grid × grid` mesh of [−extent, extent]²;
//! training centres on an equidistant `n × n` grid of [−c, c]², test centres drawn
//! uniformly (x0 and y0 independently) from the same square.

use rand::{Rng, SeedableRng};

#[derive(Clone, Debug, PartialEq)]
pub struct Bumps {
    pub grid: usize,
    pub sigma: f64,
    pub extent: f64,
    pub train_centres: Vec<[f64; 2]>,
    pub test_centres: Vec<[f64; 2]>,
}

/// `n` points from `a` to `b` inclusive.
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    match n {
        0 => vec![],
        1 => vec![(a + b) / 2.0],
        _ => (0..n)
            .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
            .collect(),
    }
}

impl Bumps {
    pub fn new(
        grid: usize,
        per_axis: usize,
        test: usize,
        sigma: f64,
        extent: f64,
        centres: f64,
        seed: u64,
    ) -> Self {
        let axis = linspace(-centres, centres, per_axis);
        let train_centres = axis
            .iter()
            .flat_map(|&x0| axis.iter().map(move |&y0| [x0, y0]))
            .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x7e57);
        let test_centres = (0..test)
            .map(|_| {
                [
                    rng.gen_range(-centres..=centres),
                    rng.gen_range(-centres..=centres),
                ]
            })
            .collect();
        Bumps {
            grid,
            sigma,
            extent,
            train_centres,
            test_centres,
        }
    }

    /// One bump, row-major `grid × grid` (rows follow y, columns x).
    pub fn render(&self, c: [f64; 2]) -> Vec<f64> {
        let axis = linspace(-self.extent, self.extent, self.grid);
        let s2 = 2.0 * self.sigma * self.sigma;
        let mut out = Vec::with_capacity(self.grid * self.grid);
        for &y in &axis {
            for &x in &axis {
                out.push((-((x - c[0]).powi(2) + (y - c[1]).powi(2)) / s2).exp());
            }
        }
        out
    }

    pub fn render_all(&self, centres: &[[f64; 2]]) -> Vec<f32> {
        centres
            .iter()
            .flat_map(|&c| self.render(c).into_iter().map(|v| v as f32))
            .collect()
    }

    /// The centre of the bump (of this σ and unit height) closest in L2 to `img`
    /// (row-major, original units), and the relative error `100·‖img − bump‖/‖bump‖`.
    /// A coarse grid over the mesh, then a shrinking pattern search; the centre stays
    /// inside the mesh, so an empty or garbled sample is measured against a visible
    /// bump (error ≥ 100 %) instead of one moved off the image (whose norm vanishes).
    pub fn best_fit(&self, img: &[f64]) -> ([f64; 2], f64) {
        let err = |c: [f64; 2]| -> f64 {
            let b = self.render(c);
            b.iter().zip(img).map(|(a, b)| (a - b).powi(2)).sum::<f64>()
        };
        let coarse = linspace(-self.extent, self.extent, 21);
        let mut best = ([0.0, 0.0], f64::INFINITY);
        for &x in &coarse {
            for &y in &coarse {
                let e = err([x, y]);
                if e < best.1 {
                    best = ([x, y], e);
                }
            }
        }
        let mut step = coarse[1] - coarse[0];
        while step > 1e-4 {
            let mut moved = false;
            for d in [[step, 0.0], [-step, 0.0], [0.0, step], [0.0, -step]] {
                let e = self.extent;
                let c = [
                    (best.0[0] + d[0]).clamp(-e, e),
                    (best.0[1] + d[1]).clamp(-e, e),
                ];
                let e = err(c);
                if e < best.1 {
                    best = (c, e);
                    moved = true;
                }
            }
            if !moved {
                step /= 2.0;
            }
        }
        let norm: f64 = self
            .render(best.0)
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt();
        (best.0, 100.0 * best.1.sqrt() / norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_papers_set_has_400_training_bumps_on_a_grid() {
        let b = Bumps::new(64, 20, 100, 0.2, 1.0, 0.5, 0);
        assert_eq!(b.train_centres.len(), 400);
        assert_eq!(b.train_centres[0], [-0.5, -0.5]);
        assert_eq!(b.train_centres[399], [0.5, 0.5]);
        assert!((b.train_centres[1][1] - (-0.5 + 1.0 / 19.0)).abs() < 1e-12);
        assert_eq!(b.test_centres.len(), 100);
        assert!(b.test_centres.iter().flatten().all(|v| v.abs() <= 0.5));
        // Peak 1 at the pixel nearest the centre (0, 0 lies between pixels 31, 32).
        let img = b.render([0.0, 0.0]);
        let peak = img.iter().cloned().fold(0.0, f64::max);
        assert!(peak > 0.99 && peak < 1.0);
        assert_eq!(img.len(), 64 * 64);
    }

    #[test]
    fn best_fit_recovers_a_bump_centre() {
        let b = Bumps::new(32, 4, 0, 0.2, 1.0, 0.5, 0);
        let img = b.render([0.123, -0.321]);
        let (c, e) = b.best_fit(&img);
        assert!(
            (c[0] - 0.123).abs() < 1e-3 && (c[1] + 0.321).abs() < 1e-3,
            "{c:?}"
        );
        assert!(e < 0.5, "{e}");
        // An empty image is 100 % away from the best (in-domain) bump, not infinitely.
        let (_, e) = b.best_fit(&vec![0.0; 32 * 32]);
        assert!((e - 100.0).abs() < 1e-6, "{e}");
    }
}
