//! What a deployed model does, written once for the board and for the host that checks
//! it (tests/cortex_m.rs includes this file): decode given coefficients, interpolate
//! between two training examples through their coefficients, the reduced-order path
//! (a parameter value → coefficients over the training grid → decode), and draw seeded
//! samples.
//! Every output is reported as its label, its length and an FNV-1a hash of its f32
//! bits, so the board and the host can be compared bit for bit over a serial line.

use rrae_artifact::{Error, Rng, View};

/// Seed of the samples.
pub const SEED: u64 = 7;

/// FNV-1a over the little-endian bits of `values`.
pub fn hash(values: &[f32]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

/// The coefficients the decode job decodes: the training coefficients' mean, and the
/// mean moved by ± one standard deviation along each coefficient in turn.
pub fn decode_inputs(view: &View) -> alloc::vec::Vec<alloc::vec::Vec<f32>> {
    let a = view.artifact();
    let k = view.k();
    let mean: alloc::vec::Vec<f32> = a
        .coefficient_mean
        .iter()
        .map(|v| v.to_native() as f32)
        .collect();
    let sd = |i: usize| libm::sqrt(a.coefficient_cov[i * k + i].to_native()) as f32;
    let mut inputs = alloc::vec![mean.clone()];
    for i in 0..k {
        for sign in [1.0f32, -1.0] {
            let mut c = mean.clone();
            c[i] += sign * sd(i);
            inputs.push(c);
        }
    }
    inputs
}

/// Runs the three jobs on `view`, giving each output to `emit(label, index, values)`.
pub fn run(view: &View, emit: &mut dyn FnMut(&str, usize, &[f32])) -> Result<(), Error> {
    let a = view.artifact();
    for (i, c) in decode_inputs(view).iter().enumerate() {
        emit("decode", i, &view.decode(c)?);
    }
    // Interpolate: between the first two stored training examples.
    let n = view.input_len();
    let ex: alloc::vec::Vec<f32> = a.examples.iter().map(|v| v.to_native()).collect();
    if ex.len() >= 2 * n {
        for (i, x) in view
            .interpolate(&ex[..n], &ex[n..2 * n], 3)?
            .iter()
            .enumerate()
        {
            emit("interpolate", i, x);
        }
        emit("coefficients", 0, &view.encode(&ex[..n])?);
    }
    // The reduced-order path: parameter values between training points (a quarter and
    // a half of the way from each parameter's first value to its second, on a grid;
    // from the first training sample to the second, scattered) → the coefficients
    // interpolated over the training parameters → decoded.
    let ends: Option<(alloc::vec::Vec<f64>, alloc::vec::Vec<f64>)> = match a.parameters.as_ref() {
        Some(rrae_artifact::ArchivedParamMap::Grid(g)) => Some(
            g.axes
                .iter()
                .map(|ax| {
                    let x0 = ax.first().map_or(0.0, |v| v.to_native());
                    (x0, ax.get(1).map_or(x0, |v| v.to_native()))
                })
                .unzip(),
        ),
        Some(rrae_artifact::ArchivedParamMap::Scattered(r)) => {
            let d = r.lo.len();
            let un = |i: usize| -> alloc::vec::Vec<f64> {
                (0..d)
                    .map(|j| {
                        let (lo, hi) = (r.lo[j].to_native(), r.hi[j].to_native());
                        lo + r.centres.get(i * d + j).map_or(0.0, |c| c.to_native()) * (hi - lo)
                    })
                    .collect()
            };
            Some((un(0), un(1)))
        }
        None => None,
    };
    if let Some((p0, p1)) = ends {
        for (i, t) in [0.25f64, 0.5].into_iter().enumerate() {
            let p: alloc::vec::Vec<f64> =
                p0.iter().zip(&p1).map(|(a, b)| a + t * (b - a)).collect();
            emit("rom", i, &view.decode_at(&p)?);
        }
    }
    // Sample: seeded draws from the training coefficients' Gaussian.
    let mut rng = Rng::new(SEED);
    for (i, x) in view.sample(2, &mut rng)?.iter().enumerate() {
        emit("sample", i, x);
    }
    Ok(())
}
