//! `flatten` lowered: nothing to compute, since the row layout of a sample already is
//! its flattening.

pub use crate::tape::TapeKernel as Kernel;

view_form!(rrae_lang::layer::flatten::Flatten);
