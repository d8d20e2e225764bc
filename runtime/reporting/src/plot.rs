//! PNG figures with no font or system dependency: line plots (linear or log y, with
//! numbered ticks from a built-in 3×5 digit font) and image grids.

use rrae_engine::error::{Result, RuntimeError};
use rrae_train::output::write_atomic;
use std::path::Path;

pub struct Canvas {
    pub w: usize,
    pub h: usize,
    pub px: Vec<[u8; 3]>,
}

const WHITE: [u8; 3] = [255, 255, 255];
const GREY: [u8; 3] = [225, 225, 225];
const BLACK: [u8; 3] = [40, 40, 40];
pub const BLUE: [u8; 3] = [31, 119, 180];
pub const ORANGE: [u8; 3] = [255, 127, 14];
/// Line colours for plots with many series (matplotlib's tab10, then two more).
pub const PALETTE: [[u8; 3]; 12] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
    [0, 0, 0],
    [255, 215, 0],
];

/// 3×5 glyphs for tick labels: rows top to bottom, 3 bits each.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        'e' => [0, 7, 7, 4, 7],
        _ => return None,
    })
}

impl Canvas {
    pub fn new(w: usize, h: usize) -> Canvas {
        Canvas {
            w,
            h,
            px: vec![WHITE; w * h],
        }
    }
    fn set(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            self.px[y as usize * self.w + x as usize] = c;
        }
    }
    /// A line, two pixels thick.
    fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: [u8; 3]) {
        let n = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
        for i in 0..=n {
            let t = i as f64 / n as f64;
            let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1)] {
                self.set(x as i64 + dx, y as i64 + dy, c);
            }
        }
    }
    /// Text in the digit font, scale 2, left-top at (x, y).
    pub fn text(&mut self, x: i64, y: i64, s: &str) {
        for (i, ch) in s.chars().enumerate() {
            let Some(g) = glyph(ch) else { continue };
            for (row, bits) in g.iter().enumerate() {
                for col in 0..3 {
                    if bits & (4 >> col) != 0 {
                        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                            self.set(
                                x + i as i64 * 8 + col * 2 + dx,
                                y + row as i64 * 2 + dy,
                                BLACK,
                            );
                        }
                    }
                }
            }
        }
    }
    /// Reads an RGB or greyscale 8-bit PNG (the plots this module writes).
    pub fn load(path: &Path) -> Result<Canvas> {
        let bad = |reason: String| rrae_engine::error::RuntimeError::Read {
            path: path.to_path_buf(),
            reason,
        };
        let f = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        let mut r = png::Decoder::new(std::io::BufReader::new(f))
            .read_info()
            .map_err(|e| bad(e.to_string()))?;
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).map_err(|e| bad(e.to_string()))?;
        let (w, h) = (info.width as usize, info.height as usize);
        let px = match (info.color_type, info.bit_depth) {
            (png::ColorType::Rgb, png::BitDepth::Eight) => buf[..w * h * 3]
                .chunks(3)
                .map(|c| [c[0], c[1], c[2]])
                .collect(),
            (png::ColorType::Grayscale, png::BitDepth::Eight) => {
                buf[..w * h].iter().map(|&g| [g, g, g]).collect()
            }
            other => return Err(bad(format!("unsupported PNG layout {other:?}"))),
        };
        Ok(Canvas { w, h, px })
    }

    /// Pastes `other` with its left-top corner at (x, y).
    pub fn paste(&mut self, other: &Canvas, x: usize, y: usize) {
        for r in 0..other.h {
            for c in 0..other.w {
                self.set((x + c) as i64, (y + r) as i64, other.px[r * other.w + c]);
            }
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut bytes = vec![];
        {
            let mut enc = png::Encoder::new(&mut bytes, self.w as u32, self.h as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let err = |e: png::EncodingError| RuntimeError::Write {
                path: path.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            };
            let mut w = enc.write_header().map_err(err)?;
            let flat: Vec<u8> = self.px.iter().flatten().copied().collect();
            w.write_image_data(&flat).map_err(err)?;
        }
        write_atomic(path, &bytes)
    }
}

fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-2..1e4).contains(&a) {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

/// Line plot of each series against its index (x from `x0`); `log` for a log y-axis.
/// Non-positive values are dropped on a log axis.
pub fn line_plot(series: &[(&[f64], [u8; 3])], log: bool) -> Canvas {
    let (w, h) = (640usize, 400usize);
    let (left, right, top, bottom) = (70.0, 20.0, 20.0, 40.0);
    let mut c = Canvas::new(w, h);
    let tf = |v: f64| if log { v.log10() } else { v };
    let vals = series
        .iter()
        .flat_map(|s| s.0.iter())
        .filter(|v| v.is_finite() && (!log || **v > 0.0))
        .map(|&v| tf(v));
    let (mut lo, mut hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if log {
        (lo, hi) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    } else if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let n = series.iter().map(|s| s.0.len()).max().unwrap_or(1).max(2);
    let (pw, ph) = (w as f64 - left - right, h as f64 - top - bottom);
    let px = |i: f64| left + pw * i / (n - 1) as f64;
    let py = |v: f64| top + ph * (1.0 - (tf(v) - lo) / (hi - lo));
    // Grid and y ticks.
    let ticks: Vec<f64> = if log {
        (lo as i64..=hi as i64)
            .map(|e| 10f64.powi(e as i32))
            .collect()
    } else {
        (0..=4).map(|i| lo + (hi - lo) * i as f64 / 4.0).collect()
    };
    for t in ticks {
        let y = py(t);
        c.line((left, y), (w as f64 - right, y), GREY);
        c.text(4, y as i64 - 5, &tick_label(t));
    }
    for i in 0..=4 {
        let x = left + pw * i as f64 / 4.0;
        c.line((x, top), (x, top + ph), GREY);
        c.text(
            x as i64 - 8,
            h as i64 - 30,
            &tick_label(((n - 1) * i / 4) as f64),
        );
    }
    c.line((left, top + ph), (w as f64 - right, top + ph), BLACK);
    c.line((left, top), (left, top + ph), BLACK);
    for (s, col) in series {
        let pts: Vec<(f64, f64)> = s
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite() && (!log || **v > 0.0))
            .map(|(i, &v)| (px(i as f64), py(v)))
            .collect();
        for p in pts.windows(2) {
            c.line(p[0], p[1], *col);
        }
        for &(x, y) in &pts {
            if s.len() <= 128 {
                for dx in -2..=2 {
                    for dy in -2..=2 {
                        c.set(x as i64 + dx, y as i64 + dy, *col);
                    }
                }
            }
        }
    }
    c
}

/// Tiles `rows × cols` single-channel images of `ih × iw` (row-major, consecutive),
/// scaled up to at least 64 px per image, grey levels shared across the grid.
/// Images side by side, `cols` to a row, each `[channels, ih, iw]`: one channel in
/// grey, three as RGB, any other count by its first channel. Values are scaled by the
/// smallest and largest of all images together, so the grid compares like with like.
pub fn image_grid(images: &[f64], channels: usize, ih: usize, iw: usize, cols: usize) -> Canvas {
    let plane = (ih * iw).max(1);
    let per = plane * channels.max(1);
    let count = images.len() / per;
    let cols = cols.max(1).min(count.max(1));
    let rows = count.div_ceil(cols).max(1);
    let zoom = (64 / ih.max(iw).max(1)).max(1);
    let (tw, th) = (iw * zoom + 2, ih * zoom + 2);
    let mut c = Canvas::new(cols * tw + 2, rows * th + 2);
    let lo = images.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = images.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let level = |v: f64| (((v - lo) / span).clamp(0.0, 1.0) * 255.0) as u8;
    for (n, img) in images.chunks(per).enumerate() {
        let (r, col) = (n / cols, n % cols);
        for y in 0..ih * zoom {
            for x in 0..iw * zoom {
                let at = (y / zoom) * iw + x / zoom;
                let px = if channels == 3 {
                    [
                        level(img[at]),
                        level(img[plane + at]),
                        level(img[2 * plane + at]),
                    ]
                } else {
                    let g = level(img[at]);
                    [g, g, g]
                };
                c.set((col * tw + 2 + x) as i64, (r * th + 2 + y) as i64, px);
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_encode_as_png() {
        let dir = std::env::temp_dir().join(format!("rrae-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap(); // ok: test scaffolding
        let y: Vec<f64> = (1..100).map(|i| 100.0 / i as f64).collect();
        let p = dir.join("l.png");
        line_plot(&[(&y, BLUE)], true).save(&p).unwrap(); // ok: asserted below
        let bytes = std::fs::read(&p).unwrap(); // ok: test
        assert_eq!(&bytes[1..4], b"PNG");
        let g = image_grid(&vec![0.5; 4 * 16], 1, 4, 4, 2);
        assert_eq!((g.w, g.h), (2 * (64 + 2) + 2, 2 * (64 + 2) + 2));
        // Three channels: red where the first is high, blue where the third is.
        let mut rgb = vec![0.0; 3 * 16];
        rgb[0] = 1.0;
        rgb[2 * 16 + 15] = 1.0;
        let g = image_grid(&rgb, 3, 4, 4, 1);
        assert_eq!(g.px[2 * g.w + 2], [255, 0, 0]);
        assert_eq!(g.px[(2 + 63) * g.w + 2 + 63], [0, 0, 255]);
        assert_eq!((g.w, g.h), (64 + 2 + 2, 64 + 2 + 2));
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(1e-5), "1e-5");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
