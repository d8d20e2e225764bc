//! Ops with a backward, one folder each: the op (how it joins the [`crate::tape`]), its
//! kernel trait, the CPU kernel, and tests with gradient checks and the device matrix.

pub mod activation;
pub mod conv2d;
pub mod conv_transpose2d;
pub mod elementwise;
pub mod gaussian;
pub mod gemm;
pub mod host;
pub mod linear;
pub mod loss;
pub mod matmul;
pub mod penalty;
pub mod shard;
pub mod weighted;

#[cfg(test)]
pub mod conv_reference;

#[cfg(test)]
pub mod gradcheck;

#[cfg(all(test, feature = "torch-oracle"))]
mod torch_oracle;

pub use conv2d::conv2d;
pub use conv_transpose2d::conv_transpose2d;
