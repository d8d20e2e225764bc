//! What a run will hold in memory, from the checked IR alone: `rrae check` prints it,
//! and `rrae run` refuses a model that cannot fit before anything is allocated (rather
//! than aborting on an allocation, or after training, in evaluation, with the trained
//! model lost).
//!
//! An estimate, not a bound: it counts the large buffers the runtime keeps, each at
//! its size in f32, with factors for the copies it is known to make. It is in f64, so
//! that a `linear(1000000000)` gives a large number, not an overflow.

use crate::ir::{DataIr, Ir, Node};
use std::fmt;

const F32: f64 = 4.0;

/// Bytes, by what holds them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    /// Parameters, their gradients, Adam's two moments, the step's bound copy and the
    /// snapshot an adaptive search keeps: six copies.
    pub parameters: f64,
    /// The training and test samples, and the fine-tuning latents.
    pub data: f64,
    /// One training step's activations: each layer's output and its gradient, the
    /// input copy and mask an op saves, and a convolution's column matrices.
    pub activations: f64,
    /// Evaluation's buffers beyond the model and data: the latents of both sets, the
    /// reconstructions, interpolations and random samples.
    pub evaluation: f64,
}

/// Which part of an estimate is largest, and the setting that lowers it.
pub struct Largest {
    pub part: &'static str,
    pub lower: &'static str,
}

impl Memory {
    /// Training's peak: the model with its optimiser state, the data and one step.
    pub fn training(&self) -> f64 {
        self.parameters + self.data + self.activations
    }

    /// Evaluation's peak: the parameters (no optimiser state), the data and its own.
    pub fn evaluating(&self) -> f64 {
        self.parameters / 6.0 + self.data + self.evaluation
    }

    pub fn peak(&self) -> f64 {
        self.training().max(self.evaluating())
    }

    /// The part to shrink first.
    pub fn largest(&self) -> Largest {
        let parts = [
            (
                self.parameters,
                "the parameters",
                "use narrower or fewer layers",
            ),
            (
                self.data,
                "the data set",
                "set `limit_train` / `limit_test` in the data block",
            ),
            (
                self.activations,
                "one training step's activations",
                "lower `batch` in the train block",
            ),
            (
                self.evaluation,
                "evaluation",
                "lower `random_samples` / `interpolation_pairs` in the eval block",
            ),
        ];
        let (_, part, lower) =
            parts
                .into_iter()
                .fold((f64::MIN, "", ""), |a, b| if b.0 > a.0 { b } else { a });
        Largest { part, lower }
    }
}

/// `bytes` for people: `412 MiB`, `3.1 GiB`, `7.5e+11 GiB`.
pub fn human(bytes: f64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes < 1024.0 * MIB {
        format!("{:.0} MiB", (bytes / MIB).max(1.0))
    } else if bytes < 1e6 * 1024.0 * MIB {
        format!("{:.1} GiB", bytes / (1024.0 * MIB))
    } else {
        format!("{:.1e} GiB", bytes / (1024.0 * MIB))
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "memory (estimate): training {}, evaluation {}",
            human(self.training()),
            human(self.evaluating())
        )
    }
}

/// One sample's bytes that layer `n` keeps during a training step.
fn layer(n: &Node) -> f64 {
    let (inp, out) = (n.input.numel() as f64, n.output.numel() as f64);
    // Output and its gradient; the saved input and a ReLU mask (or the input gradient);
    // whatever else the layer keeps for its backward (a convolution's columns).
    let base = 2.0 * out + 2.0 * inp;
    (base + n.op.saved(&n.input, &n.output)) * F32
}

/// The estimate for `ir`. Without a data block only the model's parts count.
pub fn estimate(ir: &Ir) -> Memory {
    let params = (ir.encoder_params() + ir.latent.params + ir.decoder_params()) as f64;
    let dim = ir.input.numel() as f64;
    let l = ir.latent.dim as f64;
    let (n_train, n_test) = ir.data.as_ref().map_or((0.0, 0.0), |d: &DataIr| {
        let train = d.train_samples();
        let test = d
            .test_count
            .unwrap_or_else(|| DataIr::held_out(d.train_count, d.split));
        let test = d.limit_test.map_or(test, |l| l.min(test));
        (train as f64, test as f64)
    });
    let batch = (ir.train.batch as f64).min(n_train.max(1.0));
    let per_sample: f64 = ir.encoder.iter().chain(&ir.decoder).map(layer).sum::<f64>()
        + ir.latent.op.saved(ir.latent.dim) as f64 * F32;
    let samples = (n_train + n_test) * dim * F32;
    let e = &ir.eval;
    let generated =
        (e.random_samples + e.interpolation_pairs * e.interpolation_points.max(1)) as f64;
    Memory {
        parameters: 6.0 * params * F32,
        // The samples as read and as normalised (the read buffer lives during the load),
        // and the fine-tuning latents.
        data: 2.0 * samples + n_train * l * F32,
        activations: batch * per_sample,
        // Latents in f64 for both sets, reconstructions of both, and the generated
        // samples with their latents, each in f32 and f64.
        evaluation: (n_train + n_test) * (l * 8.0 + dim * F32)
            + generated * (dim + l) * (F32 + 8.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(412.0 * 1024.0 * 1024.0), "412 MiB");
        assert_eq!(human(3.1 * 1024.0 * 1024.0 * 1024.0), "3.1 GiB");
        assert_eq!(human(1.0), "1 MiB");
        assert_eq!(human(1e30), "9.3e20 GiB");
    }

    #[test]
    fn the_largest_part_names_its_setting() {
        let m = Memory {
            parameters: 1.0,
            data: 2.0,
            activations: 9.0,
            evaluation: 3.0,
        };
        let big = m.largest();
        assert_eq!(big.part, "one training step's activations");
        assert!(big.lower.contains("batch"));
        assert_eq!(m.training(), 12.0);
        assert_eq!(m.peak(), 12.0);
    }
}
