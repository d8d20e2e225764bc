//! conv_transpose2d on the GPU: the products of conv2d's backward run forward. One
//! strided batched product gives every sample's columns `Wᵀ · x`, `col2im` scatters
//! them (as a gather) onto the output grid; the backward takes `im2col` of the output
//! gradient. The column kernels are conv2d's ([`crate::ops::conv2d::cuda`]).

use crate::device::cuda::Tr;
use crate::device::Cuda;
use crate::ops::conv2d::cuda::Saved;
use crate::ops::weighted::Epilogue;
use cudarc::driver::CudaSlice;
use rrae_artifact::Geometry;

impl super::ConvTranspose2dKernel<f32> for Cuda {
    type Saved = Saved;

    fn conv_transpose2d_forward(
        &self,
        geo: &Geometry,
        cin: usize,
        x: &CudaSlice<f32>,
        w: &CudaSlice<f32>,
        b: Option<&CudaSlice<f32>>,
        epilogue: Epilogue,
        keep: bool,
    ) -> (CudaSlice<f32>, Saved) {
        let (rows, p) = (geo.col_rows(), geo.col_cols());
        let batch = x.len() / (cin * p).max(1);
        // cols[s] (rows × p) = Wᵀ (rows × cin) · x[s] (cin × p)
        let mut cols = self.alloc::<f32>(batch * rows * p);
        self.gemm_batched(
            (rows, cin, p),
            (w, Tr::Yes, 0),
            (x, Tr::No, cin * p),
            (&mut cols, rows * p),
            batch,
        );
        let mut out = self.col2im(geo, &cols, batch);
        let plane = geo.big[0] * geo.big[1];
        let mask = self.finish(&mut out, b, (geo.channels, plane), epilogue, keep);
        (out, Saved { cols: None, mask })
    }

    fn conv_transpose2d_backward(
        &self,
        geo: &Geometry,
        cin: usize,
        saved: &Saved,
        x: &CudaSlice<f32>,
        w: &CudaSlice<f32>,
        mut g: CudaSlice<f32>,
    ) -> (CudaSlice<f32>, CudaSlice<f32>, CudaSlice<f32>) {
        self.apply_mask(&mut g, saved.mask.as_ref());
        let (rows, p) = (geo.col_rows(), geo.col_cols());
        let batch = x.len() / (cin * p).max(1);
        let db = self.channel_sums(&g, batch, geo.channels);
        let gcols = self.im2col(geo, &g, batch);
        // dx[s] (cin × p) = W (cin × rows) · gcols[s] (rows × p)
        let mut dx = self.alloc::<f32>(batch * cin * p);
        self.gemm_batched(
            (cin, rows, p),
            (w, Tr::No, 0),
            (&gcols, Tr::No, rows * p),
            (&mut dx, cin * p),
            batch,
        );
        // dW (cin × rows) = Σ_s x[s] (cin × p) · gcols[s]ᵀ, samples in order.
        let mut dw = if batch == 0 {
            self.alloc_zeros::<f32>(cin * rows)
        } else {
            self.alloc::<f32>(cin * rows)
        };
        for s in 0..batch {
            let xs = x.slice(s * cin * p..(s + 1) * cin * p);
            let gs = gcols.slice(s * rows * p..(s + 1) * rows * p);
            self.gemm((cin, p, rows), &xs, Tr::No, &gs, Tr::Yes, &mut dw, s > 0);
        }
        (dx, dw, db)
    }
}
