//! The one tensor type the runtime computes with, and host conversions.
//!
//! Every activation is a `(batch, features)` matrix on dfdx's `Cpu` device: an image
//! `[C, H, W]` is its row-major flattening, exactly PyTorch's NCHW layout, so
//! `flatten` and `reshape` cost nothing and convolutions read the flat rows as
//! images. Training runs in `f32`; gradient checks run the same code in `f64`.

use dfdx::prelude::*;

/// A batch of flattened samples: `(batch, features)`.
pub type Mat<E, T = NoneTape> = Tensor<(usize, usize), E, Cpu, T>;
/// A vector (biases).
pub type Vector<E, T = NoneTape> = Tensor<(usize,), E, Cpu, T>;

/// The element types the runtime runs in: `f32` for training, `f64` for gradient checks.
pub trait Real:
    Dtype
    + num_traits::Float
    + num_traits::FromPrimitive
    + Send
    + Sync
    + std::iter::Sum
    + crate::scratch::Pooled
    + crate::device::Element
    + 'static
{
    fn of(x: f64) -> Self;
    fn f64(self) -> f64;
}

impl Real for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn f64(self) -> f64 {
        self
    }
}

/// The elements of a dense matrix, row-major, in one `memcpy` into a pooled buffer.
///
/// dfdx's `as_vec` walks the strides element by element (about 1 ns each: 10 ms for
/// one 64 × 32 × 64 × 64 activation); this copies the storage, into a buffer of the
/// last step's (no allocation, no zero-fill). Every activation the runtime makes is
/// dense (the output of an op, never a broadcast or permuted view), which debug builds
/// check against `as_vec` on a few elements.
pub fn host<E: Real, T>(x: &Mat<E, T>) -> crate::pool::Buf<E> {
    let (r, c) = *x.shape();
    let mut v = crate::pool::take(r * c);
    x.copy_into(&mut v);
    #[cfg(debug_assertions)]
    for i in [0, r / 2, r.saturating_sub(1)] {
        for j in [0, c / 3, c.saturating_sub(1)] {
            if i < r && j < c {
                let (a, b) = (v[i * c + j], x[[i, j]]);
                debug_assert!(
                    a == b || a.is_nan() && b.is_nan(),
                    "host copy of a non-dense matrix"
                );
            }
        }
    }
    v
}

/// Copies `data` (row-major, `rows × cols`) into a tape-free matrix.
pub fn mat<E: Real>(dev: &Cpu, data: Vec<E>, rows: usize, cols: usize) -> Mat<E>
where
    Cpu: Storage<E>,
{
    debug_assert_eq!(data.len(), rows * cols);
    dev.tensor_from_vec(data, (rows, cols))
}

/// Copies `data` into a tape-free vector.
pub fn vector<E: Real>(dev: &Cpu, data: Vec<E>) -> Vector<E>
where
    Cpu: Storage<E>,
{
    let n = data.len();
    dev.tensor_from_vec(data, (n,))
}
