//! The rrae runtime: lowers checked IR onto dfdx tensors, trains, evaluates and saves.
pub mod linalg;
pub mod ops;
pub mod tensor;
