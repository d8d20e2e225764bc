//! The run folder's figures for data that are not images: 1-D signals (`[C, N]`, the
//! first channel drawn) and vectors (`[N]`, drawn as parallel coordinates: one line
//! per sample over the feature index). Where an image set gets image grids, these
//! get curves: training samples under their reconstructions, each interpolation's path from
//! one training sample to another, and random samples overlaid.

use crate::error::Result;
use crate::eval::Gallery;
use crate::plot::{line_plot, Canvas, Figure, Series, BLUE, GREY, ORANGE, PALETTE};
use std::path::Path;

/// How a sample is drawn: `n` values along `x_label`, from sample rows of `stride`
/// values (the first channel of a `[C, N]` signal), with `what` in titles.
pub struct Curves {
    pub n: usize,
    pub stride: usize,
    pub x_label: &'static str,
    pub what: &'static str,
}

impl Curves {
    /// The curves for a sample shape that is not an image, if it is one of these.
    pub fn of(sample: &[usize]) -> Option<Curves> {
        match sample {
            [n] => Some(Curves {
                n: *n,
                stride: *n,
                x_label: "feature index",
                what: "vector",
            }),
            [c, n] => Some(Curves {
                n: *n,
                stride: c * n,
                x_label: if *c > 1 {
                    "position (channel 1)"
                } else {
                    "position"
                },
                what: "signal",
            }),
            _ => None,
        }
    }

    /// Row `i` of `rows` (its first channel).
    fn row(&self, rows: &[f64], i: usize) -> Vec<f64> {
        rows[i * self.stride..i * self.stride + self.n].to_vec()
    }

    fn count(&self, rows: &[f64]) -> usize {
        rows.len() / self.stride.max(1)
    }

    fn figure(&self, title: String, series: Vec<Series>) -> Canvas {
        line_plot(&Figure {
            title,
            x_label: self.x_label.into(),
            y_label: "value (original units)".into(),
            log_y: false,
            series,
            marks: vec![],
        })
    }

    /// Writes `reconstructions.png`, `interpolations.png` and `samples.png`.
    pub fn write(&self, dir: &Path, g: &Gallery) -> Result<()> {
        let mut panels = vec![];
        for i in 0..self.count(&g.originals).min(4) {
            panels.push(self.figure(
                format!("Training {} {} and its reconstruction", self.what, i + 1),
                vec![
                    Series::indexed("original", &self.row(&g.originals, i), 0.0, GREY),
                    Series::indexed(
                        "reconstruction (encoder, U_f, decoder)",
                        &self.row(&g.reconstructions, i),
                        0.0,
                        BLUE,
                    ),
                ],
            ));
        }
        tile(&panels, 2).save(&dir.join("reconstructions.png"))?;
        let cols = g.interpolation_cols;
        if cols > 2 {
            let mut panels = vec![];
            for p in 0..(self.count(&g.interpolations) / cols).min(4) {
                let series = (0..cols)
                    .map(|j| {
                        let t = j as f64 / (cols - 1) as f64;
                        let name = match j {
                            0 => "training sample a".to_string(),
                            j if j == cols - 1 => "training sample b".to_string(),
                            _ => format!("t = {t:.2}"),
                        };
                        Series::indexed(
                            &name,
                            &self.row(&g.interpolations, p * cols + j),
                            0.0,
                            blend(t),
                        )
                    })
                    .collect();
                panels.push(self.figure(
                    format!("Interpolation {} (linear in the coefficients)", p + 1),
                    series,
                ));
            }
            tile(&panels, 2).save(&dir.join("interpolations.png"))?;
        }
        let n = self.count(&g.samples).min(8);
        if n > 0 {
            let series = (0..n)
                .map(|i| {
                    Series::indexed(
                        &format!("sample {}", i + 1),
                        &self.row(&g.samples, i),
                        0.0,
                        PALETTE[i % PALETTE.len()],
                    )
                })
                .collect();
            self.figure(
                format!("Random samples: {n} decoded draws from {}", g.sampled_from),
                series,
            )
            .save(&dir.join("samples.png"))?;
        }
        Ok(())
    }
}

/// From blue (t = 0) to orange (t = 1).
fn blend(t: f64) -> [u8; 3] {
    let mix = |a: u8, b: u8| (a as f64 * (1.0 - t) + b as f64 * t).round() as u8;
    [
        mix(BLUE[0], ORANGE[0]),
        mix(BLUE[1], ORANGE[1]),
        mix(BLUE[2], ORANGE[2]),
    ]
}

/// Panels side by side, `cols` to a row.
fn tile(panels: &[Canvas], cols: usize) -> Canvas {
    let Some(first) = panels.first() else {
        return Canvas::new(1, 1);
    };
    let cols = cols.min(panels.len()).max(1);
    let rows = panels.len().div_ceil(cols);
    let mut out = Canvas::new(first.w * cols, first.h * rows);
    for (i, p) in panels.iter().enumerate() {
        out.paste(p, (i % cols) * first.w, (i / cols) * first.h);
    }
    out
}
