//! Every layer of the language's list, through its examples: lowered, run on the tape,
//! and exported to the artifact, whose interpreter must compute the same values.

use crate::device::{Cpu, Device};
use crate::model::Model;
use crate::ops::gradcheck::noise;
use crate::tape::Tape;
use rrae_artifact as art;

/// A model around one layer call: `input` → the call → flatten → identity latent →
/// a linear decoder back to `input`.
pub(crate) fn model_around(input: &[usize], call: &str) -> Model {
    let n: usize = input.iter().product();
    let dims = input
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let src = format!(
        "model one {{ input [{dims}] encoder {{ {call} flatten }} latent identity decoder {{ linear({n}) reshape([{dims}]) }} }}"
    );
    let ir = rrae_lang::check_str("one.rrae", &src)
        .result
        .unwrap_or_else(|e| panic!("{call}: {e:?}")); // ok: test
    Model::lower(&ir, 7).unwrap_or_else(|e| panic!("{call}: {e}")) // ok: test
}

/// The artifact of `m` as written by a run, without the data it summarises.
pub(crate) fn artifact_of(m: &Model) -> art::Artifact {
    let tensors = m
        .params
        .params
        .iter()
        .map(|p| art::Tensor {
            name: p.name.clone(),
            shape: p.shape.iter().map(|d| *d as u32).collect(),
            data: p.data.clone(),
        })
        .collect();
    art::Artifact {
        name: "one".into(),
        source: String::new(),
        source_hash: 0,
        ir: String::new(),
        input: m.ir.input.0.iter().map(|d| *d as u32).collect(),
        latent_dim: m.latent_dim() as u32,
        encoder: super::artifact(&m.encoder, &m.params),
        latent: art::Latent::Identity,
        decoder: super::artifact(&m.decoder, &m.params),
        tensors,
        norm: art::Norm {
            shift: 0.0,
            scale: 1.0,
        },
        coefficient_mean: vec![0.0; m.latent_dim()],
        coefficient_cov: vec![0.0; m.latent_dim() * m.latent_dim()],
        examples: vec![],
        dataset: art::DatasetSummary {
            name: "none".into(),
            train_samples: 0,
            test_samples: 0,
        },
        training: art::TrainingSummary {
            seed: 0,
            train_steps: 0,
            fine_tune_steps: 0,
            k: None,
            train_error: 0.0,
            test_error: 0.0,
            interpolation_error: None,
            wall_seconds: 0.0,
        },
        parameters: None,
    }
}

pub(crate) fn encode(a: &art::Artifact) -> Vec<u8> {
    art::encode_file(a).unwrap_or_else(|e| panic!("{e}")) // ok: test
}

/// Each layer's forward on the engine and in the artifact's interpreter agree to
/// float rounding (the engine sums in f32 with its own order, the interpreter in f64),
/// and each weighted layer's weights are checked by the artifact's validation (a
/// truncated weight tensor is refused).
#[test]
fn every_layer_runs_alike_in_the_artifact() {
    let mut names = vec![];
    for examples in rrae_lang::layer::EXAMPLES {
        for (input, call) in examples.iter() {
            names.push(*call);
            let m = model_around(input, call);
            let rows = 3;
            let n: usize = input.iter().product();
            let x: Vec<f32> = noise(rows * n, 11).iter().map(|v| *v as f32).collect();
            let mut tape = Tape::<_, f32>::inference(Cpu);
            let params = m.params.bind(&mut tape);
            let xv = tape.constant(Cpu.upload(&x), rows, n);
            let y = m
                .encode(&mut tape, &params, xv, None)
                .unwrap_or_else(|e| panic!("{call}: {e}")); // ok: test
            let got = tape.download(y);
            let a = artifact_of(&m);
            let file = art::Mapped::from_bytes(&encode(&a));
            let view = file.view().unwrap_or_else(|e| panic!("{call}: {e}")); // ok: test
            let l = m.latent_dim();
            for r in 0..rows {
                let want = view
                    .latent(&x[r * n..(r + 1) * n])
                    .unwrap_or_else(|e| panic!("{call}: {e}")); // ok: test
                for (g, w) in got[r * l..(r + 1) * l].iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                        "{call}: engine {g} vs artifact {w}"
                    );
                }
            }
            // A weight tensor one value short is refused when the artifact opens.
            if let Some(first) = m
                .params
                .params
                .first()
                .filter(|p| p.name.starts_with("encoder.0"))
            {
                let mut bad = artifact_of(&m);
                bad.tensors[0].data.pop();
                bad.tensors[0].shape = vec![first.data.len() as u32 - 1];
                let file = art::Mapped::from_bytes(&encode(&bad));
                assert!(file.view().is_err(), "{call}: a short weight was accepted");
            }
        }
    }
    assert!(names.len() >= rrae_lang::layer::LAYERS.len(), "{names:?}");
}
