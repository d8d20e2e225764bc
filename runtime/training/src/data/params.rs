//! The physical parameters of a data set's samples, and latents interpolated over
//! them: the authors' `AE_interpolate`. A reduced-order model is asked for the
//! solution at parameters it never saw; the answer is the decoder applied to the
//! latent interpolated multilinearly from the training samples around those
//! parameters. The encoder never sees the test samples.
//!
//! Training parameters on a full grid (every combination of each axis's distinct
//! values, once) are interpolated multilinearly in their cells, as the authors'
//! interpolator does; scattered ones (random draws, measured operating points) by a
//! radial basis function ([`super::scattered`]). Every test parameter must lie inside
//! the training range: neither they nor we extrapolate. Both are checked when the data
//! loads, before any training, so a bad parameter file costs no run.

/// Each sample's parameters (row-major, `dim` per sample) and how values are
/// interpolated over the training ones.
#[derive(Clone, Debug)]
pub struct Params {
    pub dim: usize,
    pub train: Vec<f64>,
    pub test: Vec<f64>,
    pub map: Map,
}

/// The training parameters' layout, and with it the interpolation.
#[derive(Clone, Debug)]
pub enum Map {
    Grid(Grid),
    Scattered(super::scattered::Scattered),
}

impl Params {
    /// Checks the training rows (finite, distinct; a grid or an interpolable scatter)
    /// and that every test row lies in their range.
    pub fn new(dim: usize, train: Vec<f64>, test: Vec<f64>) -> Result<Params, String> {
        use rrae_lang::params::Layout;
        // Experiment hook: `RRAE_INTERPOLATE=rbf` interpolates a grid's samples by the
        // radial basis function too, to compare the two on the same data
        // (bench/interpolation_compare.sh).
        let rbf = std::env::var("RRAE_INTERPOLATE").is_ok_and(|v| v == "rbf");
        let map = match rrae_lang::params::layout(&train, dim, &test).map_err(|(_, e)| e)? {
            Layout::Grid(_) if !rbf => Map::Grid(Grid::new(&train, dim)?),
            Layout::Grid(_) | Layout::Scattered(_) => {
                Map::Scattered(super::scattered::Scattered::new(&train, dim)?)
            }
        };
        Ok(Params {
            dim,
            train,
            test,
            map,
        })
    }

    /// The test samples' latents, interpolated from `latents` (a row of `l` values per
    /// training sample).
    pub fn test_latents(&self, latents: &[f32], l: usize) -> Vec<f32> {
        match &self.map {
            Map::Grid(g) => g.interpolate(latents, l, &self.test),
            Map::Scattered(s) => {
                let values: Vec<f64> = latents.iter().map(|&v| v as f64).collect();
                // The scatter was checked to be interpolable when it loaded.
                let Ok(fit) = s.fit(&values, l) else {
                    return vec![f32::NAN; self.test.len() / self.dim.max(1) * l];
                };
                self.test
                    .chunks(self.dim)
                    .flat_map(|q| match s.at(&fit, q) {
                        Ok(v) => v.into_iter().map(|x| x as f32).collect(),
                        Err(_) => vec![f32::NAN; l],
                    })
                    .collect()
            }
        }
    }

    /// The kind of layout, as the report says it.
    pub fn layout(&self) -> String {
        match &self.map {
            Map::Grid(g) => {
                let sizes: Vec<String> = g.axes().iter().map(|a| a.len().to_string()).collect();
                format!("a {} grid, interpolated multilinearly", sizes.join(" × "))
            }
            Map::Scattered(s) => format!(
                "{} scattered points, interpolated by a cubic radial basis function",
                s.len()
            ),
        }
    }
}

/// A rectilinear grid: the sorted distinct values of each parameter, and the training
/// sample at each combination (row-major over the axes, the first axis slowest).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    axes: Vec<Vec<f64>>,
    sample_at: Vec<usize>,
}

impl Grid {
    /// The grid the rows of `train` (`dim` values each; finite and distinct, as
    /// [`rrae_lang::params::layout`] checks) form, or why they do not.
    pub fn new(train: &[f64], dim: usize) -> Result<Grid, String> {
        let n = train.len() / dim.max(1);
        if dim == 0 || n == 0 || n * dim != train.len() {
            return Err(format!(
                "{} values do not make rows of {dim} parameters",
                train.len()
            ));
        }
        let axes = rrae_lang::params::axes(train, dim);
        let points = axes
            .iter()
            .try_fold(1usize, |acc, a| acc.checked_mul(a.len()));
        if points != Some(n) {
            let sizes: Vec<String> = axes.iter().map(|a| a.len().to_string()).collect();
            return Err(format!(
                "the {n} training samples' parameters are not a full grid: their distinct \
                 values per parameter ({}) make {} combinations",
                sizes.join(" × "),
                points.map_or_else(|| "too many".to_string(), |p| p.to_string())
            ));
        }
        let mut sample_at = vec![usize::MAX; n];
        for (i, r) in train.chunks(dim).enumerate() {
            let mut flat = 0;
            for (a, &v) in axes.iter().zip(r) {
                // The value is on its axis: the axis was built from these rows.
                flat = flat * a.len() + a.partition_point(|&x| x < v);
            }
            // Distinct rows, as many as grid points: each point is hit once.
            sample_at[flat] = i;
        }
        Ok(Grid { axes, sample_at })
    }

    /// The training samples at the corners of the cell holding `q`, with their
    /// multilinear weights (which sum to 1). The first axis varies fastest over the
    /// corners.
    pub fn corners(&self, q: &[f64]) -> Result<Vec<(usize, f64)>, String> {
        Ok(rrae_artifact::grid::corners(&self.axes, q)?
            .into_iter()
            .map(|(flat, w)| (self.sample_at[flat], w))
            .collect())
    }

    /// Each parameter's distinct values, increasing.
    pub fn axes(&self) -> &[Vec<f64>] {
        &self.axes
    }

    /// The training sample at each grid point, the points in flat order (last axis
    /// fastest, as [`rrae_artifact::grid::corners`] numbers them).
    pub fn samples(&self) -> &[usize] {
        &self.sample_at
    }

    /// Rows of `l` values at each query (`dim` values each), interpolated from
    /// `latents` (a row per training sample). Queries were checked by [`Params::new`];
    /// one outside the grid gets the nearest cell's extrapolation-free clamp.
    pub fn interpolate(&self, latents: &[f32], l: usize, queries: &[f64]) -> Vec<f32> {
        let dim = self.axes.len();
        let mut out = Vec::with_capacity(queries.len() / dim * l);
        for q in queries.chunks(dim) {
            let clamped: Vec<f64> = q
                .iter()
                .zip(&self.axes)
                .map(|(&v, a)| v.clamp(a[0], a[a.len() - 1]))
                .collect();
            let corners = self.corners(&clamped).unwrap_or_default();
            for j in 0..l {
                let mut v = 0.0;
                for &(s, w) in &corners {
                    v += w * latents[s * l + j] as f64;
                }
                out.push(v as f32);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3 × 2 grid given out of order; queries checked against weights worked out by
    /// hand.
    #[test]
    fn weights_are_multilinear_on_a_shuffled_grid() {
        // Axis 0: {0, 1, 3}; axis 1: {10, 20}.
        let train = [
            3.0, 20.0, 0.0, 10.0, 1.0, 20.0, 0.0, 20.0, 3.0, 10.0, 1.0, 10.0,
        ];
        let g = Grid::new(&train, 2).expect("a full grid"); // ok: test
                                                            // (2, 12.5): t0 = (2 − 1) / 2 = 0.5 between 1 and 3; t1 = 0.25 between 10, 20.
        let mut w = g.corners(&[2.0, 12.5]).expect("inside"); // ok: test
        w.sort_by_key(|&(s, _)| s);
        // Samples: 4 = (3,10), 5 = (1,10), 0 = (3,20), 2 = (1,20).
        let want = [
            (0, 0.5 * 0.25),
            (2, 0.5 * 0.25),
            (4, 0.5 * 0.75),
            (5, 0.5 * 0.75),
        ];
        assert_eq!(w.len(), 4);
        for ((s, x), (ws, wx)) in w.iter().zip(want) {
            assert_eq!(*s, ws);
            assert!((x - wx).abs() < 1e-15, "{s}: {x} vs {wx}");
        }
        // A grid point is its own sample, with weight 1.
        let on: Vec<(usize, f64)> = g
            .corners(&[1.0, 20.0])
            .expect("inside") // ok: test
            .into_iter()
            .filter(|&(_, w)| w > 0.0)
            .collect();
        assert_eq!(on, vec![(2, 1.0)]);
    }

    /// An affine function of the parameters is reproduced exactly, in 3-D.
    #[test]
    fn affine_latents_are_interpolated_exactly() {
        let axis = [[-1.0, 0.0, 2.0], [0.5, 1.5, 4.0], [0.0, 1.0, 1.1]];
        let mut train = vec![];
        for &a in &axis[0] {
            for &b in &axis[1] {
                for &c in &axis[2] {
                    train.extend([a, b, c]);
                }
            }
        }
        let f = |p: &[f64]| [2.0 * p[0] - p[1] + 0.5 * p[2] + 1.0, p[1] * 3.0 - p[2]];
        let lat: Vec<f32> = train
            .chunks(3)
            .flat_map(|p| f(p).map(|v| v as f32))
            .collect();
        let test = vec![0.3, 1.0, 0.2, -1.0, 4.0, 1.1, 1.9, 0.6, 1.05];
        let p = Params::new(3, train, test.clone()).expect("inside the grid"); // ok: test
        let got = p.test_latents(&lat, 2);
        for (q, g) in test.chunks(3).zip(got.chunks(2)) {
            let w = f(q);
            assert!((g[0] as f64 - w[0]).abs() < 1e-5 && (g[1] as f64 - w[1]).abs() < 1e-5);
        }
    }

    #[test]
    fn grids_with_gaps_duplicates_or_outside_tests_are_refused() {
        let gap = Grid::new(&[0.0, 0.0, 0.0, 1.0, 1.0, 0.0], 2).unwrap_err();
        assert!(
            gap.contains("not a full grid") && gap.contains("2 × 2"),
            "{gap}"
        );
        let dup = Params::new(1, vec![0.0, 1.0, 0.0], vec![]).unwrap_err();
        assert!(dup.contains("samples 0 and 2"), "{dup}");
        let out = Params::new(1, vec![0.0, 1.0, 2.0], vec![0.5, 2.5]).unwrap_err();
        assert!(
            out.contains("test sample 1") && out.contains("outside the training range [0, 2]"),
            "{out}"
        );
        let nan = Params::new(1, vec![0.0, f64::NAN], vec![]).unwrap_err();
        assert!(nan.contains("training sample 1"), "{nan}");
    }

    /// A one-valued axis interpolates along the others and accepts only its value.
    #[test]
    fn a_single_valued_axis_is_a_slice() {
        let g = Grid::new(&[0.0, 5.0, 1.0, 5.0], 2).expect("a 2 × 1 grid"); // ok: test
        let w = g.corners(&[0.25, 5.0]).expect("on the slice"); // ok: test
        assert_eq!(w, vec![(0, 0.75), (1, 0.25)]);
        assert!(g.corners(&[0.25, 5.5]).is_err());
    }
}
