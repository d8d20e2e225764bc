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
    Dtype + num_traits::Float + num_traits::FromPrimitive + Send + Sync + std::iter::Sum + 'static
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
