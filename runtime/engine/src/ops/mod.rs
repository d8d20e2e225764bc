//! Ops with a backward, one folder each (API + host kernel + tests with gradient
//! checks); dfdx supplies matmul, element-wise ops and reductions.

pub mod activation;
pub mod conv2d;
pub mod conv_transpose2d;
pub mod gemm;
pub mod host;
pub mod im2col;
pub mod learned_basis;
pub mod linear;
pub mod loss;
pub mod penalty;
pub mod project;
pub mod svd_truncate;
pub mod tape;

#[cfg(test)]
pub mod conv_reference;

#[cfg(test)]
pub mod gradcheck;

pub use conv2d::conv2d;
pub use conv_transpose2d::conv_transpose2d;
