//! The geometry of a 2-D convolution and the index map shared by convolution and its
//! transpose: the engine's kernels, its cost model and the artifact's interpreter all
//! read this one type (the artifact stores it as `Conv`, in `u32`s).
//!
//! A convolution reads a "big" grid (its input) through a kernel placed at every
//! point of a "small" grid (its output): small point `(oh, ow)` and kernel tap
//! `(ki, kj)` read big point `(oh·s − p + ki·d, ow·s − p + kj·d)`. `im2col` gathers
//! those reads into a `(C·kh·kw) × (Ho·Wo)` column matrix; `col2im` scatters a column
//! matrix back, adding overlaps. Conv2d's forward is im2col and its backward col2im;
//! the transposed convolution is the other way round, which is why its output
//! padding costs nothing: it only makes the big grid larger.

/// Sizes of one 2-D convolution; `channels` are the big grid's. 1-D convolutions use `h = 1`, kernel `1 × k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Channels of the big grid.
    pub channels: usize,
    pub big: [usize; 2],
    pub small: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
}

impl Geometry {
    /// All sizes at once, in the struct's field order.
    pub fn new(
        channels: usize,
        big: [usize; 2],
        small: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
    ) -> Geometry {
        Geometry {
            channels,
            big,
            small,
            kernel,
            stride,
            padding,
            dilation,
        }
    }

    /// Rows of the column matrix: `C·kh·kw`.
    pub fn col_rows(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }
    /// Columns of the column matrix: `Ho·Wo`.
    pub fn col_cols(&self) -> usize {
        self.small[0] * self.small[1]
    }
    /// A 1×1, stride-1, unpadded map: the column matrix is the input itself.
    pub fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1]
            && self.stride == [1, 1]
            && self.padding == [0, 0]
            && self.big == self.small
    }
    pub fn big_len(&self) -> usize {
        self.channels * self.big[0] * self.big[1]
    }

    /// For kernel tap `k` on axis `a`: the small indices `lo..hi` whose read falls
    /// inside the big grid, and the big index read by `lo`. Reads advance by the
    /// stride, so the inner loops need no bounds checks.
    #[inline]
    fn span(&self, a: usize, k: usize) -> (usize, usize, usize) {
        let (s, p, off) = (self.stride[a], self.padding[a], k * self.dilation[a]);
        // First o with o·s + off ≥ p.
        let lo = if off >= p { 0 } else { (p - off).div_ceil(s) };
        // Last o with o·s + off − p ≤ big − 1.
        let limit = self.big[a] + p;
        let hi = if limit > off {
            ((limit - off - 1) / s + 1).min(self.small[a])
        } else {
            0
        };
        let lo = lo.min(hi);
        (lo, hi, (lo * s + off).saturating_sub(p))
    }

    /// Every read of the map as row spans: `f(row, c, oh, ih, lo..hi, iw0)` says that
    /// small points `(oh, lo..hi)` read big row `(c, ih)` from column `iw0` on, one
    /// stride apart, through kernel tap `row = (c, ki, kj)`. The direct (no column
    /// matrix) convolution of few output channels is built on it.
    #[inline]
    pub fn for_each_span(
        &self,
        mut f: impl FnMut(usize, usize, usize, usize, core::ops::Range<usize>, usize),
    ) {
        let [kh, kw] = self.kernel;
        for c in 0..self.channels {
            for ki in 0..kh {
                let (h_lo, h_hi, ih0) = self.span(0, ki);
                for kj in 0..kw {
                    let (w_lo, w_hi, iw0) = self.span(1, kj);
                    let row = (c * kh + ki) * kw + kj;
                    for oh in h_lo..h_hi {
                        let ih = ih0 + (oh - h_lo) * self.stride[0];
                        f(row, c, oh, ih, w_lo..w_hi, iw0);
                    }
                }
            }
        }
    }

    /// `cols[(c, ki, kj), (oh, ow)] = big[c, ih, iw]` (zero in the padding).
    pub fn im2col<E: Copy + Default>(&self, big: &[E], cols: &mut [E]) {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.small;
        let [bh, bw] = self.big;
        let st = self.stride[1];
        for c in 0..self.channels {
            let plane = &big[c * bh * bw..(c + 1) * bh * bw];
            for ki in 0..kh {
                let (h_lo, h_hi, ih0) = self.span(0, ki);
                for kj in 0..kw {
                    let (w_lo, w_hi, iw0) = self.span(1, kj);
                    let row = ((c * kh + ki) * kw + kj) * sh * sw;
                    let block = &mut cols[row..row + sh * sw];
                    block[..h_lo * sw]
                        .iter_mut()
                        .for_each(|x| *x = E::default());
                    block[h_hi * sw..]
                        .iter_mut()
                        .for_each(|x| *x = E::default());
                    for oh in h_lo..h_hi {
                        let ih = ih0 + (oh - h_lo) * self.stride[0];
                        let src = &plane[ih * bw..(ih + 1) * bw];
                        let out = &mut block[oh * sw..(oh + 1) * sw];
                        out[..w_lo].iter_mut().for_each(|x| *x = E::default());
                        out[w_hi..].iter_mut().for_each(|x| *x = E::default());
                        let n = w_hi - w_lo;
                        if st == 1 {
                            out[w_lo..w_hi].copy_from_slice(&src[iw0..iw0 + n]);
                        } else {
                            for (j, x) in out[w_lo..w_hi].iter_mut().enumerate() {
                                *x = src[iw0 + j * st];
                            }
                        }
                    }
                }
            }
        }
    }

    /// `big[c, ih, iw] += Σ cols[(c, ki, kj), (oh, ow)]` over every read of that point.
    pub fn col2im<E: Copy + core::ops::AddAssign>(&self, cols: &[E], big: &mut [E]) {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.small;
        let [bh, bw] = self.big;
        let st = self.stride[1];
        for c in 0..self.channels {
            let plane = &mut big[c * bh * bw..(c + 1) * bh * bw];
            for ki in 0..kh {
                let (h_lo, h_hi, ih0) = self.span(0, ki);
                for kj in 0..kw {
                    let (w_lo, w_hi, iw0) = self.span(1, kj);
                    let row = ((c * kh + ki) * kw + kj) * sh * sw;
                    for oh in h_lo..h_hi {
                        let ih = ih0 + (oh - h_lo) * self.stride[0];
                        let src = &cols[row + oh * sw + w_lo..row + oh * sw + w_hi];
                        let dst = &mut plane[ih * bw..(ih + 1) * bw];
                        if st == 1 {
                            for (d, v) in dst[iw0..iw0 + src.len()].iter_mut().zip(src) {
                                *d += *v;
                            }
                        } else {
                            for (j, v) in src.iter().enumerate() {
                                dst[iw0 + j * st] += *v;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The span arithmetic against a per-element reference, over many geometries.
    #[test]
    fn im2col_matches_per_element_reads() {
        for (bh, bw, k, s, p, d) in [
            (7, 6, 3, 2, 1, 1),
            (5, 9, 2, 1, 0, 2),
            (8, 8, 3, 2, 2, 1),
            (4, 4, 1, 1, 0, 1),
            (6, 5, 3, 3, 2, 2),
        ] {
            let small = |b: usize| (b + 2 * p - d * (k - 1) - 1) / s + 1;
            let g = Geometry {
                channels: 2,
                big: [bh, bw],
                small: [small(bh), small(bw)],
                kernel: [k, k],
                stride: [s, s],
                padding: [p, p],
                dilation: [d, d],
            };
            let x: Vec<f64> = (0..g.big_len()).map(|i| i as f64 + 1.0).collect();
            let mut cols = vec![-1.0; g.col_rows() * g.col_cols()];
            g.im2col(&x, &mut cols);
            let mut i = 0;
            for c in 0..2 {
                for ki in 0..k {
                    for kj in 0..k {
                        for oh in 0..g.small[0] {
                            for ow in 0..g.small[1] {
                                let ih = (oh * s + ki * d) as isize - p as isize;
                                let iw = (ow * s + kj * d) as isize - p as isize;
                                let want =
                                    if ih < 0 || iw < 0 || ih >= bh as isize || iw >= bw as isize {
                                        0.0
                                    } else {
                                        x[(c * bh + ih as usize) * bw + iw as usize]
                                    };
                                assert_eq!(cols[i], want, "{g:?} at {i}");
                                i += 1;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The spans are exactly the reads im2col makes.
    #[test]
    fn spans_cover_the_reads_of_im2col() {
        let g = Geometry::new(2, [7, 6], [4, 3], [3, 2], [2, 2], [1, 1], [1, 2]);
        let x: Vec<f64> = (0..g.big_len()).map(|i| i as f64 + 1.0).collect();
        let mut cols = vec![0.0; g.col_rows() * g.col_cols()];
        g.im2col(&x, &mut cols);
        let mut seen = vec![0.0; cols.len()];
        let [bh, bw] = g.big;
        g.for_each_span(|row, c, oh, ih, w, iw0| {
            for (j, ow) in w.enumerate() {
                seen[row * g.col_cols() + oh * g.small[1] + ow] =
                    x[(c * bh + ih) * bw + iw0 + j * g.stride[1]];
            }
        });
        assert_eq!(seen, cols);
    }

    /// col2im is the adjoint of im2col: <im2col(x), y> = <x, col2im(y)>.
    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        let g = Geometry {
            channels: 2,
            big: [7, 6],
            small: [4, 3],
            kernel: [3, 2],
            stride: [2, 2],
            padding: [1, 1],
            dilation: [1, 2],
        };
        let x: Vec<f64> = (0..g.big_len()).map(|i| (i as f64 * 0.7).sin()).collect();
        let y: Vec<f64> = (0..g.col_rows() * g.col_cols())
            .map(|i| (i as f64 * 1.3).cos())
            .collect();
        let mut cx = vec![0.0; y.len()];
        g.im2col(&x, &mut cx);
        let mut ty = vec![0.0; x.len()];
        g.col2im(&y, &mut ty);
        let lhs: f64 = cx.iter().zip(&y).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&ty).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-10, "{lhs} vs {rhs}");
        assert!(lhs.abs() > 1e-3);
    }
}
