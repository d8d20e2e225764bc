//! `sigmoid` lowered: the activation kernel, element by element.

pub use crate::ops::activation::ActivationKernel as Kernel;

activation_form!(rrae_lang::layer::sigmoid::Sigmoid, Sigmoid);
