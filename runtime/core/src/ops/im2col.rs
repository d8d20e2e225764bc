//! The index map shared by convolution and its transpose.
//!
//! A convolution reads a "big" grid (its input) through a kernel placed at every
//! point of a "small" grid (its output): small point `(oh, ow)` and kernel tap
//! `(ki, kj)` read big point `(oh·s − p + ki·d, ow·s − p + kj·d)`. `im2col` gathers
//! those reads into a `(C·kh·kw) × (Ho·Wo)` column matrix; `col2im` scatters a column
//! matrix back, adding overlaps. Conv2d's forward is im2col and its backward col2im;
//! the transposed convolution is the other way round, which is why its output
//! padding costs nothing: it only makes the big grid larger.

use num_traits::Zero;

/// Sizes of one 2-D convolution. 1-D convolutions use `h = 1`, kernel `1 × k`.
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
    /// Rows of the column matrix: `C·kh·kw`.
    pub fn col_rows(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }
    /// Columns of the column matrix: `Ho·Wo`.
    pub fn col_cols(&self) -> usize {
        self.small[0] * self.small[1]
    }
    pub fn big_len(&self) -> usize {
        self.channels * self.big[0] * self.big[1]
    }

    /// Big-grid coordinate read by small index `o` and kernel tap `k` on axis `a`,
    /// or `None` when it falls in the padding.
    #[inline]
    fn at(&self, a: usize, o: usize, k: usize) -> Option<usize> {
        let x = (o * self.stride[a] + k * self.dilation[a]).checked_sub(self.padding[a])?;
        (x < self.big[a]).then_some(x)
    }

    /// `cols[(c, ki, kj), (oh, ow)] = big[c, ih, iw]` (zero in the padding).
    pub fn im2col<E: Copy + Zero>(&self, big: &[E], cols: &mut [E]) {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.small;
        let [bh, bw] = self.big;
        for c in 0..self.channels {
            for ki in 0..kh {
                for kj in 0..kw {
                    let row = ((c * kh + ki) * kw + kj) * sh * sw;
                    for oh in 0..sh {
                        let out = &mut cols[row + oh * sw..row + (oh + 1) * sw];
                        match self.at(0, oh, ki) {
                            None => out.iter_mut().for_each(|x| *x = E::zero()),
                            Some(ih) => {
                                let src = &big[(c * bh + ih) * bw..(c * bh + ih + 1) * bw];
                                for (ow, x) in out.iter_mut().enumerate() {
                                    *x = match self.at(1, ow, kj) {
                                        Some(iw) => src[iw],
                                        None => E::zero(),
                                    };
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `big[c, ih, iw] += Σ cols[(c, ki, kj), (oh, ow)]` over every read of that point.
    pub fn col2im<E: Copy + std::ops::AddAssign>(&self, cols: &[E], big: &mut [E]) {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.small;
        let [bh, bw] = self.big;
        for c in 0..self.channels {
            for ki in 0..kh {
                for kj in 0..kw {
                    let row = ((c * kh + ki) * kw + kj) * sh * sw;
                    for oh in 0..sh {
                        let Some(ih) = self.at(0, oh, ki) else {
                            continue;
                        };
                        let src = &cols[row + oh * sw..row + (oh + 1) * sw];
                        let dst = &mut big[(c * bh + ih) * bw..(c * bh + ih + 1) * bw];
                        for (ow, &v) in src.iter().enumerate() {
                            if let Some(iw) = self.at(1, ow, kj) {
                                dst[iw] += v;
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
