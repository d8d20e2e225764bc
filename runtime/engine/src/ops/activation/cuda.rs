//! The activations on the GPU: the CPU's formulas, element by element.

use super::Activation;
use crate::device::cuda::module::Module;
use crate::device::Cuda;
use cudarc::driver::{CudaSlice, PushKernelArg};

pub const MODULE: Module = Module {
    op: "activation",
    source: r#"
// kind: 0 relu, 1 sigmoid, 2 tanh, 3 leaky relu with `slope`.
extern "C" __global__ void act_forward_f32(float* y, const float* x, int kind, float slope, i64 n) {
    FOR_EACH(i, n) {
        float v = x[i];
        switch (kind) {
            case 0: y[i] = fmaxf(v, 0.0f); break;
            case 1: y[i] = 1.0f / (1.0f + expf(-v)); break;
            case 2: y[i] = tanhf(v); break;
            default: y[i] = v > 0.0f ? v : v * slope; break;
        }
    }
}
extern "C" __global__ void act_backward_f32(float* dx, const float* x, const float* y,
                                            const float* g, int kind, float slope, i64 n) {
    FOR_EACH(i, n) {
        switch (kind) {
            case 0: dx[i] = (x[i] > 0.0f ? 1.0f : 0.0f) * g[i]; break;
            case 1: dx[i] = (y[i] * (1.0f - y[i])) * g[i]; break;
            case 2: dx[i] = (1.0f - y[i] * y[i]) * g[i]; break;
            default: dx[i] = x[i] > 0.0f ? g[i] : g[i] * slope; break;
        }
    }
}
"#,
    functions: &["act_forward_f32", "act_backward_f32"],
};

/// The kernels' code for `a`, and its slope.
fn code(a: Activation) -> (i32, f32) {
    match a {
        Activation::Relu => (0, 0.0),
        Activation::Sigmoid => (1, 0.0),
        Activation::Tanh => (2, 0.0),
        Activation::LeakyRelu(s) => (3, s as f32),
    }
}

impl super::ActivationKernel<f32> for Cuda {
    fn activation_forward(&self, a: Activation, x: &CudaSlice<f32>) -> CudaSlice<f32> {
        let (kind, slope) = code(a);
        let n = x.len() as i64;
        let mut y = self.alloc::<f32>(x.len());
        if let Some(f) = self.kernel(&MODULE, "act_forward_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut y).arg(x).arg(&kind).arg(&slope).arg(&n);
            self.go(l, n as usize);
        }
        y
    }

    fn activation_backward(
        &self,
        a: Activation,
        x: &CudaSlice<f32>,
        y: &CudaSlice<f32>,
        g: &CudaSlice<f32>,
    ) -> CudaSlice<f32> {
        let (kind, slope) = code(a);
        let n = g.len() as i64;
        let mut dx = self.alloc::<f32>(g.len());
        if let Some(f) = self.kernel(&MODULE, "act_backward_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut dx)
                .arg(x)
                .arg(y)
                .arg(g)
                .arg(&kind)
                .arg(&slope)
                .arg(&n);
            self.go(l, n as usize);
        }
        dx
    }
}
