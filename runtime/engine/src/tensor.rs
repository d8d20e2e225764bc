//! The element types the engine computes in.
//!
//! Every activation is a `(batch, features)` row-major matrix on the tape
//! ([`crate::tape::Var`]): an image `[C, H, W]` is its flattening, exactly PyTorch's
//! NCHW layout, so `flatten` and `reshape` cost nothing and convolutions read the flat
//! rows as images. Training runs in `f32`; gradient checks run the same code in `f64`.

/// The element types the runtime runs in: `f32` for training, `f64` for gradient checks.
pub trait Real:
    num_traits::Float
    + Default
    + num_traits::FromPrimitive
    + std::ops::AddAssign
    + std::fmt::Debug
    + std::fmt::Display
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
