//! [`Backend`]: a device with every kernel the engine has, what the lowered model, the
//! trainer and the evaluator are generic over.

/// Declares `Backend<E>` as the sum of the kernel traits, and implements it for every
/// device that implements them all, from one list.
macro_rules! backend {
    ($($kernel:path),+ $(,)?) => {
        /// A device with every kernel a model needs. Implemented for every device that
        /// implements the kernel traits; a device that misses one is told which by the
        /// compiler.
        pub trait Backend<E: crate::tensor::Real>: $($kernel +)+ {}

        impl<E: crate::tensor::Real, D: $($kernel +)+> Backend<E> for D {}
    };
}

backend!(
    crate::tape::TapeKernel<E>,
    crate::ops::matmul::MatmulKernel<E>,
    crate::ops::loss::LossKernel<E>,
    crate::layer::LayerKernels<E>,
    crate::latent::LatentKernels<E>,
);
