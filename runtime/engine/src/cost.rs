//! The arithmetic a model costs: multiply-add FLOPs per sample, for the achieved
//! GFLOP/s that `rrae bench` reports and docs/performance.md quotes.
//!
//! Counted are the products that dominate (convolutions, their transposes, linear
//! maps), two FLOPs per multiply-add, as PyTorch's profilers and the papers count
//! them. Element-wise work, the SVD and the optimiser are not: they are memory-bound
//! and under 1 % of the products here.

use crate::model::{Lowered, Model};

/// FLOPs of one sample through a model.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Flops {
    /// The forward pass.
    pub forward: f64,
    /// Forward and backward of a training step: each weighted layer's forward,
    /// its weight gradient and its input gradient — except the first layer's, which
    /// nothing reads.
    pub train: f64,
    /// A fine-tuning step: the decoder's forward and backward (the encoder is frozen and
    /// its latents precomputed, so the decoder's first layer needs no input gradient).
    pub fine_tune: f64,
}

/// The FLOPs of one sample of `model` (the decoder runs once, as in training).
pub fn flops(model: &Model) -> Flops {
    // A layer's backward costs two forwards (input and weight gradients), one when its
    // input is data and needs no gradient.
    let step = |layers: &[Lowered]| -> (f64, f64) {
        let (mut fwd, mut total, mut first) = (0.0, 0.0, true);
        for l in layers {
            let f = l.layer.flops(&model.params);
            if f == 0.0 {
                continue;
            }
            fwd += f;
            total += if first { 2.0 * f } else { 3.0 * f };
            first = false;
        }
        (fwd, total)
    };
    let (enc_fwd, _) = step(&model.encoder);
    let (dec_fwd, fine_tune) = step(&model.decoder);
    let all: Vec<Lowered> = model
        .encoder
        .iter()
        .chain(&model.decoder)
        .cloned()
        .collect();
    Flops {
        forward: enc_fwd + dec_fwd,
        train: step(&all).1,
        fine_tune,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(path: &str) -> Model {
        let src = std::fs::read_to_string(path).expect("model file"); // ok: test
        let ir = rrae_lang::check_str(path, &src).result.expect("checks"); // ok: test
        Model::lower(&ir, 0).expect("lowers") // ok: test
    }

    /// The paper's bumps model, counted by hand layer by layer (per sample):
    /// convolutions 32·9·32², 64·288·16², 128·576·8²; linear maps 8192·64 and 64·2048;
    /// transposed convolutions 32·1152·8², 128·576·16², 64·288·32²; the 1×1 output
    /// convolution 1·32·64²; each times two.
    #[test]
    fn the_paper_model_costs_what_its_layers_say() {
        let m = model(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/rrae.rrae"
        ));
        let macs = [
            32 * 9 * 1024,
            64 * 288 * 256,
            128 * 576 * 64,
            8192 * 64,
            64 * 2048,
            32 * 1152 * 64,
            128 * 576 * 256,
            64 * 288 * 1024,
            32 * 4096,
        ];
        let fwd: f64 = macs.iter().map(|&m| 2.0 * m as f64).sum();
        let f = flops(&m);
        assert_eq!(f.forward, fwd);
        assert_eq!(f.train, 3.0 * fwd - 2.0 * macs[0] as f64);
        // Fine-tuning: the decoder (from the linear layer, whose input is data).
        let dec: f64 = macs[4..].iter().map(|&m| 2.0 * m as f64).sum();
        assert_eq!(f.fine_tune, 3.0 * dec - 2.0 * macs[4] as f64);
        // 19.4 GFLOP per training step at batch 64 (issue 7 estimated about 18.5).
        assert!(
            (f.train * 64.0 / 1e9 - 19.40).abs() < 0.01,
            "{}",
            f.train * 64.0 / 1e9
        );
    }
}
