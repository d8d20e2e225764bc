//! Resumable checkpoints: `RUN_DIR/checkpoint.safetensors`.
//!
//! Everything a run needs to continue bit for bit: the parameters, the optimiser's
//! moments and step count, the snapshot the controller may restore (with its own
//! optimiser state), the controller, the step log and the decisions. The batch order
//! needs no state of its own: it is a function of the seed and of the number of
//! batches drawn in the phase, which the controller's step counts give. Tensors are
//! safetensors entries; the rest is JSON in the header's `state` entry. The file is
//! written to a temporary name and renamed.

use crate::control::{Controller, Decision, Phase};
use crate::error::{Result, TrainError};
use crate::train::{Snapshot, StepLog, Trainer};
use rrae_engine::optim::Optimizer;
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Bumped when the layout changes; other versions are refused with a clear error.
/// Version 2 added the checksum and the data's fingerprint.
pub const VERSION: u32 = 2;

/// The header entry holding the checksum.
const CHECKSUM: &str = "xxh3";

pub const FILE: &str = "checkpoint.safetensors";

/// The JSON half of a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// FNV-1a of the checked IR's text: a resumed run must train the same model.
    pub ir_hash: String,
    pub controller: Controller,
    pub log: Vec<StepLog>,
    pub decisions: Vec<Decision>,
    pub param_names: Vec<String>,
    pub opt_t: u64,
    pub saved_k: Option<usize>,
    pub saved_opt_t: Option<u64>,
    pub data_wait_ms: f64,
    /// [`crate::data::Dataset::fingerprint`] of the data trained on: a resumed run must
    /// see the same samples.
    pub data: String,
}

/// A checkpoint in memory: built on the training thread, written by the monitor.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub state: State,
    pub params: Vec<Vec<f32>>,
    pub opt: Optimizer,
    pub saved: Option<Snapshot>,
}

/// xxh3-64 of a checkpoint's contents: the state's JSON, then every tensor's name and
/// bytes in name order (whatever order the file lists them in). Every byte the reader
/// uses is covered; a change elsewhere in the header fails to parse or moves a tensor.
fn content_checksum<'a, 'b>(
    state: &str,
    names: impl Iterator<Item = &'a str>,
    data: impl Fn(&str) -> Option<&'b [u8]>,
) -> u64 {
    let mut names: Vec<&str> = names.collect();
    names.sort_unstable();
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(state.as_bytes());
    for n in names {
        h.update(n.as_bytes());
        h.update(&[0]);
        h.update(data(n).unwrap_or_default());
    }
    h.digest()
}

/// The model source's hash as checkpoints write it: the artifact's FNV-1a
/// ([`rrae_artifact::source_hash`]), in hex.
pub fn fnv1a(text: &str) -> String {
    format!("{:016x}", rrae_artifact::source_hash(text))
}

/// The model's hash as checkpoints record it: the checked IR's text with the run's
/// lengths (training and fine-tuning steps, an adaptive search's budget) left out, so
/// that a resumed run may be given other lengths ([`crate::control::Controller::set_lengths`]).
pub fn model_hash(ir: &rrae_lang::Ir) -> String {
    let mut ir = ir.clone();
    ir.train.steps = 0;
    ir.train.fine_tune_steps = 0;
    if let rrae_lang::ir::LatentOp::SvdTruncate(rrae_lang::ir::Rank::Adaptive {
        max_steps, ..
    }) = &mut ir.latent.op
    {
        *max_steps = None;
    }
    fnv1a(&ir.to_string())
}

impl Checkpoint {
    /// The trainer's state now. `None` before a run has started.
    pub fn of(t: &Trainer) -> Option<Checkpoint> {
        let controller = t.controller.clone()?;
        Some(Checkpoint {
            state: State {
                version: VERSION,
                ir_hash: model_hash(&t.model.ir),
                controller,
                log: t.log.clone(),
                decisions: t.decisions.clone(),
                param_names: t
                    .model
                    .params
                    .params
                    .iter()
                    .map(|p| p.name.clone())
                    .collect(),
                opt_t: t.opt.t,
                saved_k: t.saved.as_ref().map(|s| s.k),
                saved_opt_t: t.saved.as_ref().map(|s| s.opt.t),
                data_wait_ms: t.data_wait.as_secs_f64() * 1e3,
                data: t.data_fingerprint().to_string(),
            },
            params: t.model.params.values(),
            opt: t.optimizer(),
            saved: t.saved.clone(),
        })
    }

    /// Steps completed (training and fine-tuning together).
    pub fn step(&self) -> usize {
        self.state.controller.steps_done()
    }

    pub fn to_bytes(&self) -> std::result::Result<Vec<u8>, String> {
        fn add<'a>(
            entries: &mut Vec<(String, &'a [f32])>,
            prefix: &str,
            params: &'a [Vec<f32>],
            opt: &'a Optimizer,
        ) {
            for (i, p) in params.iter().enumerate() {
                entries.push((format!("{prefix}param.{i}"), p));
                entries.push((format!("{prefix}m.{i}"), &opt.m[i]));
                entries.push((format!("{prefix}v.{i}"), &opt.v[i]));
            }
        }
        let mut entries: Vec<(String, &[f32])> = vec![];
        add(&mut entries, "", &self.params, &self.opt);
        if let Some(s) = &self.saved {
            add(&mut entries, "saved.", &s.params, &s.opt);
        }
        let bytes: Vec<(String, Vec<u8>, usize)> = entries
            .iter()
            .map(|(n, d)| {
                let b = d.iter().flat_map(|v| v.to_le_bytes()).collect();
                (n.clone(), b, d.len())
            })
            .collect();
        let mut views = vec![];
        for (n, b, len) in &bytes {
            let v = TensorView::new(Dtype::F32, vec![*len], b).map_err(|e| e.to_string())?;
            views.push((n.clone(), v));
        }
        let state = serde_json::to_string(&self.state).map_err(|e| e.to_string())?;
        let sum = content_checksum(&state, entries.iter().map(|(n, _)| n.as_str()), |n| {
            bytes.iter().find(|b| b.0 == n).map(|b| b.1.as_slice())
        });
        let meta = HashMap::from([
            ("state".to_string(), state),
            (CHECKSUM.to_string(), format!("{sum:016x}")),
        ]);
        safetensors::serialize(views, &Some(meta)).map_err(|e| e.to_string())
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let bytes = self
            .to_bytes()
            .map_err(|e| TrainError::write(path.to_path_buf(), e))?;
        crate::output::write_atomic(path, &bytes)
    }

    pub fn read(path: &Path) -> Result<Checkpoint> {
        let bad = |reason: String| TrainError::Read {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        Checkpoint::from_bytes(&bytes).map_err(bad)
    }

    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Checkpoint, String> {
        let (_, meta) = SafeTensors::read_metadata(bytes)
            .map_err(|e| format!("not a checkpoint (safetensors: {e})"))?;
        let json = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("state"))
            .ok_or("not a checkpoint: no `state` entry in its header")?;
        let state: State = serde_json::from_str(json).map_err(|e| {
            format!("its state does not parse ({e}); was it written by another rrae version?")
        })?;
        if state.version != VERSION {
            return Err(format!(
                "checkpoint format {} is not {VERSION}, the one this rrae reads",
                state.version
            ));
        }
        let st = SafeTensors::deserialize(bytes).map_err(|e| format!("corrupt tensors: {e}"))?;
        let stored = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get(CHECKSUM))
            .ok_or("it has no checksum")?;
        let names = st.names();
        let computed = content_checksum(json, names.iter().map(|n| n.as_str()), |n| {
            st.tensor(n).ok().map(|v| v.data())
        });
        if format!("{computed:016x}") != *stored {
            return Err(format!(
                "it is damaged: its contents hash to {computed:016x}, its header says {stored} (a byte changed on disk)"
            ));
        }
        let get = |name: &str| -> std::result::Result<Vec<f32>, String> {
            let v = st
                .tensor(name)
                .map_err(|_| format!("tensor `{name}` is missing"))?;
            if v.dtype() != Dtype::F32 {
                return Err(format!("tensor `{name}` is {:?}, not F32", v.dtype()));
            }
            Ok(v.data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect())
        };
        let n = state.param_names.len();
        let read = |prefix: &str, t: u64, template: &Optimizer| {
            let mut params = Vec::with_capacity(n);
            let mut opt = template.clone();
            opt.t = t;
            opt.m.clear();
            opt.v.clear();
            for i in 0..n {
                params.push(get(&format!("{prefix}param.{i}"))?);
                opt.m.push(get(&format!("{prefix}m.{i}"))?);
                opt.v.push(get(&format!("{prefix}v.{i}"))?);
            }
            Ok::<_, String>((params, opt))
        };
        // The optimiser kind comes from the model; moments and step from the file.
        let template = Optimizer::placeholder();
        let (params, opt) = read("", state.opt_t, &template)?;
        let saved = match (state.saved_k, state.saved_opt_t) {
            (Some(k), Some(t)) => {
                let (params, opt) = read("saved.", t, &template)?;
                Some(Snapshot { k, params, opt })
            }
            _ => None,
        };
        Ok(Checkpoint {
            state,
            params,
            opt,
            saved,
        })
    }

    /// Puts the trainer back where the checkpoint was taken. The trainer must hold
    /// the same model (same checked IR) as the run that wrote it.
    pub fn restore(self, t: &mut Trainer, path: &Path) -> Result<()> {
        let bad = |reason: String| TrainError::Read {
            path: path.to_path_buf(),
            reason,
        };
        if self.state.data != t.data_fingerprint() {
            return Err(bad(format!(
                "the data changed since it was written (fingerprint {} vs {}): resume with the data the run started on, or start a new run",
                self.state.data,
                t.data_fingerprint()
            )));
        }
        let hash = model_hash(&t.model.ir);
        if hash != self.state.ir_hash {
            return Err(bad(format!(
                "it was written for another model (IR hash {} vs {hash}): resume with the same .rrae file and the same --steps/--fine-tune-steps/--seed",
                self.state.ir_hash
            )));
        }
        let names: Vec<&String> = t.model.params.params.iter().map(|p| &p.name).collect();
        let shapes_ok = self.params.len() == names.len()
            && t.model
                .params
                .params
                .iter()
                .zip(&self.params)
                .all(|(p, d)| p.data.len() == d.len())
            && self
                .opt
                .m
                .iter()
                .zip(&self.params)
                .all(|(m, d)| m.len() == d.len())
            && self
                .opt
                .v
                .iter()
                .zip(&self.params)
                .all(|(v, d)| v.len() == d.len())
            && self.saved.as_ref().is_none_or(|s| {
                s.params
                    .iter()
                    .zip(&self.params)
                    .all(|(a, b)| a.len() == b.len())
            })
            && names
                .iter()
                .zip(&self.state.param_names)
                .all(|(a, b)| *a == b);
        if !shapes_ok {
            return Err(bad(
                "its parameters do not match the model's names and sizes".into(),
            ));
        }
        for (p, d) in t.model.params.params.iter_mut().zip(self.params) {
            p.data = d;
        }
        let kind = t.opt.clone();
        let mut c = self.state.controller;
        // The lengths this run is resumed with (they are not in the model's hash), as
        // a fresh plan of this model would set them.
        let fresh = *crate::train::plan(&t.model, &t.model.ir.train).options();
        c.set_lengths(fresh.max_steps, fresh.fine_tune_steps)
            .map_err(|e| bad(format!("it cannot be given these lengths: {e}")))?;
        t.log = self.state.log;
        t.decisions = self.state.decisions;
        t.data_wait = std::time::Duration::from_secs_f64(self.state.data_wait_ms / 1e3);
        t.saved = self.saved.map(|s| Snapshot {
            opt: kind.with_state(s.opt),
            ..s
        });
        // Rank and phase: as the controller left them.
        let k = c.k();
        let phase = c.phase();
        t.controller = Some(c);
        t.set_rank(k);
        if phase == Phase::FineTune {
            // The encoder has been frozen since the end of training, so its latents
            // and the common basis come out exactly as they did then.
            t.end_training()?;
            t.begin_fine_tune()?;
        }
        t.set_optimizer(kind.with_state(self.opt));
        Ok(())
    }
}

/// The run folder's artifact: written by the reporting crate at the end of a run and,
/// through [`crate::schedule::RunFolder`], beside every checkpoint.
pub const ARTIFACT: &str = "model.rra";

/// Where a run folder keeps its checkpoint.
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE)
}
