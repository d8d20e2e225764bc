//! conv2d on the GPU: every sample's column matrix at once (`im2col`), one strided
//! batched cuBLAS product for the forward and for the column gradient, and `col2im`
//! gathering into the input gradient (each input element sums its own taps: no
//! atomics, so the result does not depend on scheduling). The same column kernels
//! serve the transposed convolution, whose grids are the other way round.
//!
//! The composition is written once over [`Columns`], the column kernels and the
//! products: [`Cuda`] implements it with these kernels and cuBLAS, and a test implements
//! it with the same CUDA C compiled for the host and a column-major product that follows
//! cuBLAS's definition (`device/cuda/emulate/`), so the composition, the kernels'
//! index arithmetic and the cuBLAS calls are checked against the CPU's convolutions on
//! machines without a GPU.

use crate::device::cuda::module::Module;
use crate::device::cuda::Tr;
use crate::device::Cuda;
use crate::ops::weighted::Epilogue;
use cudarc::driver::{CudaSlice, PushKernelArg};
use rrae_artifact::Geometry;

pub const MODULE: Module = Module {
    op: "conv2d",
    source: r#"
// The geometry of one convolution: the big grid (channels c, h × w), the small one
// (ho × wo), kernel, stride, padding and dilation. Column row r = (c, ki, kj).
struct Geo { i64 c, h, w, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw; };

extern "C" __global__ void im2col_f32(float* cols, const float* x, Geo g, i64 batch) {
    i64 rows = g.c * g.kh * g.kw, p = g.ho * g.wo;
    FOR_EACH(i, batch * rows * p) {
        i64 q = i % p, r = (i / p) % rows, b = i / (p * rows);
        i64 oi = q / g.wo, oj = q % g.wo;
        i64 kj = r % g.kw, ki = (r / g.kw) % g.kh, c = r / (g.kw * g.kh);
        i64 y = oi * g.sh - g.ph + ki * g.dh, z = oj * g.sw - g.pw + kj * g.dw;
        cols[i] = (y >= 0 && y < g.h && z >= 0 && z < g.w)
            ? x[((b * g.c + c) * g.h + y) * g.w + z] : 0.0f;
    }
}

// Each big-grid element gathers the column entries that read it.
extern "C" __global__ void col2im_f32(float* x, const float* cols, Geo g, i64 batch) {
    i64 rows = g.c * g.kh * g.kw, p = g.ho * g.wo;
    FOR_EACH(i, batch * g.c * g.h * g.w) {
        i64 z = i % g.w, y = (i / g.w) % g.h, c = (i / (g.w * g.h)) % g.c;
        i64 b = i / (g.w * g.h * g.c);
        float s = 0.0f;
        for (i64 ki = 0; ki < g.kh; ++ki) {
            i64 t = y + g.ph - ki * g.dh;
            if (t < 0 || t % g.sh != 0 || t / g.sh >= g.ho) continue;
            for (i64 kj = 0; kj < g.kw; ++kj) {
                i64 u = z + g.pw - kj * g.dw;
                if (u < 0 || u % g.sw != 0 || u / g.sw >= g.wo) continue;
                i64 r = (c * g.kh + ki) * g.kw + kj;
                s += cols[(b * rows + r) * p + (t / g.sh) * g.wo + u / g.sw];
            }
        }
        x[i] = s;
    }
}

// The epilogue: the channel's bias (when has_bias), then the ReLU and its mask (when
// relu; mask may be null when there is no backward).
extern "C" __global__ void bias_relu_f32(float* y, const float* bias, int has_bias,
                                         bool* mask, int relu, i64 channels, i64 plane, i64 n) {
    FOR_EACH(i, n) {
        float v = y[i];
        if (has_bias) v += bias[(i / plane) % channels];
        if (relu) {
            bool on = v > 0.0f;
            if (mask) mask[i] = on;
            v = on ? v : 0.0f;
        }
        y[i] = v;
    }
}

extern "C" __global__ void apply_mask_f32(float* g, const bool* mask, i64 n) {
    FOR_EACH(i, n) { if (!mask[i]) g[i] = 0.0f; }
}

// ∂b: per channel, samples in order, then the plane.
extern "C" __global__ void channel_sums_f32(float* db, const float* g, i64 batch,
                                            i64 channels, i64 plane) {
    FOR_EACH(c, channels) {
        float s = 0.0f;
        for (i64 b = 0; b < batch; ++b) {
            const float* row = g + (b * channels + c) * plane;
            float t = 0.0f;
            for (i64 q = 0; q < plane; ++q) t += row[q];
            s += t;
        }
        db[c] = s;
    }
}
"#,
    functions: &[
        "im2col_f32",
        "col2im_f32",
        "bias_relu_f32",
        "apply_mask_f32",
        "channel_sums_f32",
    ],
};

/// The kernels' `Geo`, field for field.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geo([i64; 13]);

// SAFETY: thirteen i64s, laid out as the kernels' struct.
unsafe impl cudarc::driver::DeviceRepr for Geo {}

impl Geo {
    pub(crate) fn of(g: &Geometry) -> Geo {
        let i = |v: usize| v as i64;
        Geo([
            i(g.channels),
            i(g.big[0]),
            i(g.big[1]),
            i(g.small[0]),
            i(g.small[1]),
            i(g.kernel[0]),
            i(g.kernel[1]),
            i(g.stride[0]),
            i(g.stride[1]),
            i(g.padding[0]),
            i(g.padding[1]),
            i(g.dilation[0]),
            i(g.dilation[1]),
        ])
    }
}

/// What the GPU convolutions are made of.
pub(crate) trait Columns {
    /// f32 buffers, and the fused ReLU's masks.
    type Buf;
    type Mask;
    /// `n` elements the caller overwrites, and `n` zeros.
    fn alloc(&self, n: usize) -> Self::Buf;
    fn zeros(&self, n: usize) -> Self::Buf;
    fn len(b: &Self::Buf) -> usize;
    /// Every sample's column matrix of the big-grid images `x`.
    fn im2col(&self, geo: &Geometry, x: &Self::Buf, batch: usize) -> Self::Buf;
    /// The big-grid images whose taps are `cols`, summed.
    fn col2im(&self, geo: &Geometry, cols: &Self::Buf, batch: usize) -> Self::Buf;
    /// Adds the per-channel bias and applies the epilogue in place; the ReLU's mask
    /// when `keep`.
    fn finish(
        &self,
        y: &mut Self::Buf,
        b: Option<&Self::Buf>,
        channels_plane: (usize, usize),
        epilogue: Epilogue,
        keep: bool,
    ) -> Option<Self::Mask>;
    /// Zeroes `g` where the fused ReLU cut.
    fn apply_mask(&self, g: &mut Self::Buf, mask: Option<&Self::Mask>);
    /// Per-channel sums of `g` (`batch × channels × plane`), samples in order.
    fn channel_sums(&self, g: &Self::Buf, batch: usize, channels: usize) -> Self::Buf;
    /// `count` row-major products `c_s = op(a_s)·op(b_s)`, operands `stride` apart.
    fn products(
        &self,
        dims: (usize, usize, usize),
        a: (&Self::Buf, Tr, usize),
        b: (&Self::Buf, Tr, usize),
        c: (&mut Self::Buf, usize),
        count: usize,
    );
    /// One row-major product of the blocks at `a_at` and `b_at`, added to `c` when
    /// `accumulate`.
    fn product_at(
        &self,
        dims: (usize, usize, usize),
        a: (&Self::Buf, usize, Tr),
        b: (&Self::Buf, usize, Tr),
        c: &mut Self::Buf,
        accumulate: bool,
    );
    fn fail(&self, what: &str, why: &str);
}

/// What the forward keeps: the column matrices (conv2d) and the fused ReLU's mask.
pub struct Saved<B, M> {
    pub(crate) cols: Option<B>,
    pub(crate) mask: Option<M>,
}

/// `Σ_s x_s · y_sᵀ` over the samples in order (the weight gradients): `x_s` is `m × p`
/// at `s·m·p`, `y_s` is `n × p` at `s·n·p`, the sum `m × n`.
fn sum_of_products<G: Columns>(
    d: &G,
    (m, p, n): (usize, usize, usize),
    x: &G::Buf,
    y: &G::Buf,
    batch: usize,
) -> G::Buf {
    let mut out = if batch == 0 {
        d.zeros(m * n)
    } else {
        d.alloc(m * n)
    };
    for s in 0..batch {
        d.product_at(
            (m, p, n),
            (x, s * m * p, Tr::No),
            (y, s * n * p, Tr::Yes),
            &mut out,
            s > 0,
        );
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn forward<G: Columns>(
    d: &G,
    geo: &Geometry,
    cout: usize,
    x: &G::Buf,
    w: &G::Buf,
    b: Option<&G::Buf>,
    epilogue: Epilogue,
    keep: bool,
) -> (G::Buf, Saved<G::Buf, G::Mask>) {
    let batch = G::len(x) / geo.big_len().max(1);
    let (rows, p) = (geo.col_rows(), geo.col_cols());
    let cols = d.im2col(geo, x, batch);
    let mut out = d.alloc(batch * cout * p);
    // out[s] (cout × p) = W (cout × rows) · cols[s] (rows × p)
    d.products(
        (cout, rows, p),
        (w, Tr::No, 0),
        (&cols, Tr::No, rows * p),
        (&mut out, cout * p),
        batch,
    );
    let mask = d.finish(&mut out, b, (cout, p), epilogue, keep);
    let cols = keep.then_some(cols);
    (out, Saved { cols, mask })
}

pub(crate) fn backward<G: Columns>(
    d: &G,
    (geo, cout): (&Geometry, usize),
    saved: &Saved<G::Buf, G::Mask>,
    x: &G::Buf,
    w: &G::Buf,
    mut g: G::Buf,
) -> (G::Buf, G::Buf, G::Buf) {
    d.apply_mask(&mut g, saved.mask.as_ref());
    let batch = G::len(x) / geo.big_len().max(1);
    let (rows, p) = (geo.col_rows(), geo.col_cols());
    let db = d.channel_sums(&g, batch, cout);
    let Some(cols) = &saved.cols else {
        d.fail("conv2d backward", "the forward kept no column matrices");
        return (d.alloc(G::len(x)), d.alloc(G::len(w)), db);
    };
    // dW (cout × rows) = Σ_s g[s] (cout × p) · cols[s]ᵀ
    let dw = sum_of_products(d, (cout, p, rows), &g, cols, batch);
    // dcols[s] (rows × p) = Wᵀ (rows × cout) · g[s] (cout × p)
    let mut dcols = d.alloc(batch * rows * p);
    d.products(
        (rows, cout, p),
        (w, Tr::Yes, 0),
        (&g, Tr::No, cout * p),
        (&mut dcols, rows * p),
        batch,
    );
    let dx = d.col2im(geo, &dcols, batch);
    (dx, dw, db)
}

/// The transposed convolution, `geo.big` its output grid: `cols[s] = Wᵀ·x[s]`, then
/// `col2im` onto the output.
#[allow(clippy::too_many_arguments)]
pub(crate) fn transposed_forward<G: Columns>(
    d: &G,
    geo: &Geometry,
    cin: usize,
    x: &G::Buf,
    w: &G::Buf,
    b: Option<&G::Buf>,
    epilogue: Epilogue,
    keep: bool,
) -> (G::Buf, Saved<G::Buf, G::Mask>) {
    let (rows, p) = (geo.col_rows(), geo.col_cols());
    let batch = G::len(x) / (cin * p).max(1);
    // cols[s] (rows × p) = Wᵀ (rows × cin) · x[s] (cin × p)
    let mut cols = d.alloc(batch * rows * p);
    d.products(
        (rows, cin, p),
        (w, Tr::Yes, 0),
        (x, Tr::No, cin * p),
        (&mut cols, rows * p),
        batch,
    );
    let mut out = d.col2im(geo, &cols, batch);
    let plane = geo.big[0] * geo.big[1];
    let mask = d.finish(&mut out, b, (geo.channels, plane), epilogue, keep);
    (out, Saved { cols: None, mask })
}

/// Its backward: `gcols = im2col(g)`, `dx[s] = W·gcols[s]`, `dW = Σ_s x[s]·gcols[s]ᵀ`.
pub(crate) fn transposed_backward<G: Columns>(
    d: &G,
    (geo, cin): (&Geometry, usize),
    saved: &Saved<G::Buf, G::Mask>,
    x: &G::Buf,
    w: &G::Buf,
    mut g: G::Buf,
) -> (G::Buf, G::Buf, G::Buf) {
    d.apply_mask(&mut g, saved.mask.as_ref());
    let (rows, p) = (geo.col_rows(), geo.col_cols());
    let batch = G::len(x) / (cin * p).max(1);
    let db = d.channel_sums(&g, batch, geo.channels);
    let gcols = d.im2col(geo, &g, batch);
    // dx[s] (cin × p) = W (cin × rows) · gcols[s] (rows × p)
    let mut dx = d.alloc(batch * cin * p);
    d.products(
        (cin, rows, p),
        (w, Tr::No, 0),
        (&gcols, Tr::No, rows * p),
        (&mut dx, cin * p),
        batch,
    );
    let dw = sum_of_products(d, (cin, p, rows), x, &gcols, batch);
    (dx, dw, db)
}

impl Columns for Cuda {
    type Buf = CudaSlice<f32>;
    type Mask = CudaSlice<bool>;

    fn alloc(&self, n: usize) -> CudaSlice<f32> {
        Cuda::alloc(self, n)
    }

    fn zeros(&self, n: usize) -> CudaSlice<f32> {
        self.alloc_zeros(n)
    }

    fn len(b: &CudaSlice<f32>) -> usize {
        b.len()
    }

    fn im2col(&self, geo: &Geometry, x: &CudaSlice<f32>, batch: usize) -> CudaSlice<f32> {
        let n = batch * geo.col_rows() * geo.col_cols();
        let mut cols = Cuda::alloc::<f32>(self, n);
        let (g, batch) = (Geo::of(geo), batch as i64);
        if let Some(f) = self.kernel(&MODULE, "im2col_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut cols).arg(x).arg(&g).arg(&batch);
            self.go(l, n);
        }
        cols
    }

    fn col2im(&self, geo: &Geometry, cols: &CudaSlice<f32>, batch: usize) -> CudaSlice<f32> {
        let n = batch * geo.big_len();
        let mut x = Cuda::alloc::<f32>(self, n);
        let (g, batch) = (Geo::of(geo), batch as i64);
        if let Some(f) = self.kernel(&MODULE, "col2im_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut x).arg(cols).arg(&g).arg(&batch);
            self.go(l, n);
        }
        x
    }

    fn finish(
        &self,
        y: &mut CudaSlice<f32>,
        b: Option<&CudaSlice<f32>>,
        (channels, plane): (usize, usize),
        epilogue: Epilogue,
        keep: bool,
    ) -> Option<CudaSlice<bool>> {
        let relu = epilogue == Epilogue::Relu;
        let mut mask = (relu && keep).then(|| Cuda::alloc::<bool>(self, y.len()));
        if b.is_none() && !relu {
            return mask;
        }
        let n = y.len() as i64;
        let (has_bias, relu) = (b.is_some() as i32, relu as i32);
        let (channels, plane) = (channels as i64, plane.max(1) as i64);
        // A null pointer where there is no bias or no mask: the kernel never reads it.
        let null = 0u64;
        if let Some(f) = self.kernel(&MODULE, "bias_relu_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut *y);
            match b {
                Some(bias) => l.arg(bias),
                None => l.arg(&null),
            };
            l.arg(&has_bias);
            match mask.as_mut() {
                Some(mask) => l.arg(mask),
                None => l.arg(&null),
            };
            l.arg(&relu).arg(&channels).arg(&plane).arg(&n);
            self.go(l, n as usize);
        }
        mask
    }

    fn apply_mask(&self, g: &mut CudaSlice<f32>, mask: Option<&CudaSlice<bool>>) {
        let Some(mask) = mask else { return };
        let n = g.len() as i64;
        if let Some(f) = self.kernel(&MODULE, "apply_mask_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut *g).arg(mask).arg(&n);
            self.go(l, n as usize);
        }
    }

    fn channel_sums(&self, g: &CudaSlice<f32>, batch: usize, channels: usize) -> CudaSlice<f32> {
        let plane = g.len() / (batch * channels).max(1);
        let mut db = Cuda::alloc::<f32>(self, channels);
        let (batch, channels, plane) = (batch as i64, channels as i64, plane as i64);
        if let Some(f) = self.kernel(&MODULE, "channel_sums_f32") {
            let mut l = self.launcher(&f);
            l.arg(&mut db).arg(g).arg(&batch).arg(&channels).arg(&plane);
            self.go(l, channels as usize);
        }
        db
    }

    fn products(
        &self,
        dims: (usize, usize, usize),
        a: (&CudaSlice<f32>, Tr, usize),
        b: (&CudaSlice<f32>, Tr, usize),
        c: (&mut CudaSlice<f32>, usize),
        count: usize,
    ) {
        self.gemm_batched(dims, a, b, c, count);
    }

    fn product_at(
        &self,
        (m, k, n): (usize, usize, usize),
        (a, a_at, ta): (&CudaSlice<f32>, usize, Tr),
        (b, b_at, tb): (&CudaSlice<f32>, usize, Tr),
        c: &mut CudaSlice<f32>,
        accumulate: bool,
    ) {
        let a = a.slice(a_at..a_at + m * k);
        let b = b.slice(b_at..b_at + k * n);
        self.gemm((m, k, n), &a, ta, &b, tb, c, accumulate);
    }

    fn fail(&self, what: &str, why: &str) {
        Cuda::fail(self, what, why);
    }
}

impl super::Conv2dKernel<f32> for Cuda {
    type Saved = Saved<CudaSlice<f32>, CudaSlice<bool>>;

    fn conv2d_forward(
        &self,
        geo: &Geometry,
        cout: usize,
        x: &CudaSlice<f32>,
        w: &CudaSlice<f32>,
        b: Option<&CudaSlice<f32>>,
        epilogue: Epilogue,
        keep: bool,
    ) -> (CudaSlice<f32>, Self::Saved) {
        forward(self, geo, cout, x, w, b, epilogue, keep)
    }

    fn conv2d_backward(
        &self,
        geo: &Geometry,
        cout: usize,
        saved: &Self::Saved,
        x: &CudaSlice<f32>,
        w: &CudaSlice<f32>,
        g: CudaSlice<f32>,
    ) -> (CudaSlice<f32>, CudaSlice<f32>, CudaSlice<f32>) {
        backward(self, (geo, cout), saved, x, w, g)
    }
}
