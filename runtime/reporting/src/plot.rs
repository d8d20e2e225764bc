//! PNG figures with no system dependency: line plots drawn with plotters (titles, axis
//! titles, legends and marks, in the embedded DejaVu Sans) and image grids (grey or RGB);
//! a 3×5 digit font numbers the rows of `rrae compare`'s stacked grids.

use crate::error::{Result, RunError};
use rrae_train::output::write_atomic;
use std::path::Path;

pub struct Canvas {
    pub w: usize,
    pub h: usize,
    pub px: Vec<[u8; 3]>,
}

const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [40, 40, 40];
pub const BLUE: [u8; 3] = [31, 119, 180];
pub const ORANGE: [u8; 3] = [255, 127, 14];
pub const GREY: [u8; 3] = [127, 127, 127];
pub const GREEN: [u8; 3] = [44, 160, 44];
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
        let bad = |reason: String| RunError::read(path.to_path_buf(), reason);
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
            enc.set_compression(png::Compression::Best);
            let err = |e: png::EncodingError| RunError::write(path.to_path_buf(), e);
            let mut w = enc.write_header().map_err(err)?;
            let flat: Vec<u8> = self.px.iter().flatten().copied().collect();
            w.write_image_data(&flat).map_err(err)?;
        }
        Ok(write_atomic(path, &bytes)?)
    }
}

/// An axis number as a reader writes it: `50`, `0.25`, `1e-5`.
fn tick_label(v: f64) -> String {
    // A tick at zero computed as a sum of steps lands within rounding of it.
    if v.abs() < 1e-12 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

/// One line of a [`Figure`]: `(x, y)` points, a legend entry, a colour.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub colour: [u8; 3],
}

impl Series {
    /// `y` against its index from `x0` (non-finite values are gaps).
    pub fn indexed(name: &str, y: &[f64], x0: f64, colour: [u8; 3]) -> Series {
        Series {
            name: name.into(),
            points: y
                .iter()
                .enumerate()
                .map(|(i, &v)| (x0 + i as f64, v))
                .collect(),
            colour,
        }
    }
}

/// A line plot a reader understands without the README: a title, axis titles with
/// units, a legend, and vertical marks at named x positions (the start of
/// fine-tuning, rank changes).
pub struct Figure {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_y: bool,
    pub series: Vec<Series>,
    pub marks: Vec<(f64, String)>,
}

/// DejaVu Sans, embedded: the figures need no system font.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use plotters::style::{register_font, FontStyle};
        // The embedded bytes are a valid font; a failure would only leave text out.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A strip `w` pixels wide with `text` in 16-pixel DejaVu Sans on the left: a band's
/// label in a stacked figure.
pub fn caption(text: &str, w: usize) -> Canvas {
    use plotters::prelude::*;
    register_font();
    let (w, h) = (w.max(1), 26usize);
    let mut buf = vec![255u8; w * h * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w as u32, h as u32)).into_drawing_area();
        // Text into a buffer fails only on a missing glyph; the strip then stays blank.
        let _ = root.draw(&Text::new(
            text.to_string(),
            (6, 4),
            ("sans-serif", 16).into_font().color(&RGBColor(40, 40, 40)),
        ));
        let _ = root.present();
    }
    Canvas {
        w,
        h,
        px: buf.chunks(3).map(|c| [c[0], c[1], c[2]]).collect(),
    }
}

/// `c` under a caption strip as wide as the text needs (at least `c`).
pub fn captioned(c: Canvas, text: &str) -> Canvas {
    let w = c.w.max(text.chars().count() * 8 + 16);
    stacked(&[caption(text, w), c], 0)
}

/// `parts` one under another, `gap` pixels apart, on white.
pub fn stacked(parts: &[Canvas], gap: usize) -> Canvas {
    let w = parts.iter().map(|c| c.w).max().unwrap_or(1);
    let h = parts.iter().map(|c| c.h).sum::<usize>() + gap * parts.len().saturating_sub(1);
    let mut out = Canvas::new(w, h.max(1));
    let mut y = 0;
    for c in parts {
        out.paste(c, 0, y);
        y += c.h + gap;
    }
    out
}

/// Draws `fig` (800 × 500 pixels). Non-positive values are dropped on a log axis,
/// non-finite ones everywhere.
pub fn line_plot(fig: &Figure) -> Canvas {
    register_font();
    let (w, h) = (800usize, 500usize);
    let keep = |y: f64| y.is_finite() && (!fig.log_y || y > 0.0);
    let pts = || {
        fig.series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| keep(p.1))
    };
    let (mut x0, mut x1) = pts().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
        (a.min(p.0), b.max(p.0))
    });
    let (mut y0, mut y1) = pts().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
        (a.min(p.1), b.max(p.1))
    });
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 1.0, 10.0);
    }
    if x1 - x0 < 1e-12 {
        x1 = x0 + 1.0;
    }
    if fig.log_y {
        (y0, y1) = (
            10f64.powf(y0.log10().floor()),
            10f64.powf(y1.log10().ceil()),
        );
        if y1 <= y0 {
            y1 = y0 * 10.0;
        }
    } else {
        let pad = ((y1 - y0) * 0.05).max(1e-12);
        // Room above the data for the legend (upper right, about 20 px a line of the
        // plot's 410), so that it hides no curve.
        let legend = (fig.series.len() as f64 * 20.0 + 12.0) / 410.0;
        let room = (y1 - y0 + 2.0 * pad) * legend.min(0.6) / (1.0 - legend.min(0.6));
        (y0, y1) = (y0 - pad, y1 + pad + room);
    }
    let mut buf = vec![255u8; w * h * 3];
    let drawn = if fig.log_y {
        use plotters::prelude::IntoLogRange;
        draw(&mut buf, (w, h), fig, x0..x1, (y0..y1).log_scale())
    } else {
        draw(&mut buf, (w, h), fig, x0..x1, y0..y1)
    };
    // Drawing into a buffer fails only on a font without a glyph, which the
    // embedded font has; the figure is then left as far as it got.
    let _ = drawn;
    Canvas {
        w,
        h,
        px: buf.chunks(3).map(|c| [c[0], c[1], c[2]]).collect(),
    }
}

fn draw<Y>(
    buf: &mut [u8],
    (w, h): (usize, usize),
    fig: &Figure,
    x: std::ops::Range<f64>,
    y: Y,
) -> std::result::Result<(), Box<dyn std::error::Error>>
where
    Y: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
    Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
{
    use plotters::prelude::*;
    let root = BitMapBackend::with_buffer(buf, (w as u32, h as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&fig.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(76)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(&fig.x_label)
        .y_desc(&fig.y_label)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        // No minor grid: it would double the PNG's size for little reading help.
        .light_line_style(WHITE)
        .draw()?;
    let (ylo, yhi) = {
        let r = chart.y_range();
        (r.start, r.end)
    };
    let log_y = fig.log_y;
    // Mark labels sit along the bottom, each a line higher than the last, clear of
    // the legend (upper right) and of each other.
    let frac = |f: f64| {
        if log_y {
            ylo * (yhi / ylo).powf(f)
        } else {
            ylo + (yhi - ylo) * f
        }
    };
    for (i, (at, label)) in fig.marks.iter().enumerate() {
        let grey = RGBColor(110, 110, 110);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(*at, ylo), (*at, yhi)],
            grey.stroke_width(1),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!(" {label}"),
            (*at, frac(0.1 + 0.06 * i as f64)),
            ("sans-serif", 13).into_font().color(&grey),
        )))?;
    }
    let log = fig.log_y;
    for s in &fig.series {
        let [r, g, b] = s.colour;
        let colour = RGBColor(r, g, b);
        // Runs of finite points, so a gap (NaN) breaks the line.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![vec![]];
        for &(px, py) in &s.points {
            if py.is_finite() && (!log || py > 0.0) {
                if let Some(run) = runs.last_mut() {
                    run.push((px, py));
                }
            } else if runs.last().is_some_and(|r| !r.is_empty()) {
                runs.push(vec![]);
            }
        }
        let mut first = true;
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let series = chart.draw_series(LineSeries::new(run, colour.stroke_width(2)))?;
            if std::mem::take(&mut first) {
                series.label(s.name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    root.present()?;
    Ok(())
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
        let fig = Figure {
            title: "A title".into(),
            x_label: "step".into(),
            y_label: "loss (%)".into(),
            log_y: true,
            series: vec![Series::indexed("falling", &y, 0.0, BLUE)],
            marks: vec![(50.0, "half way".into())],
        };
        let c = line_plot(&fig);
        c.save(&p).unwrap(); // ok: asserted below
        let bytes = std::fs::read(&p).unwrap(); // ok: test
        assert_eq!(&bytes[1..4], b"PNG");
        // The embedded font drew the title: dark pixels in the top band, where no
        // axis or series goes; the series and its legend swatch are drawn in blue.
        let dark = |px: &[u8; 3]| px.iter().all(|&v| v < 100);
        assert!(c.px[..c.w * 30].iter().any(dark), "no title text");
        assert!(
            c.px.iter().filter(|p| **p == BLUE).count() > 200,
            "no blue series"
        );
        // A log axis with no positive value still draws (an empty frame).
        let empty = Figure {
            series: vec![Series::indexed("zeros", &[0.0, 0.0], 0.0, BLUE)],
            ..fig
        };
        assert_eq!(line_plot(&empty).px.len(), 800 * 500);
        assert_eq!(tick_label(50.0), "50");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(1e-5), "1e-5");
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
        let _ = std::fs::remove_dir_all(&dir);
    }
}
