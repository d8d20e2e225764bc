//! The monitor stage: everything the training thread reports, off that thread. It
//! forwards events to the terminal (`Progress`), appends them to `events.jsonl`, the
//! steps to `losses.csv` ([`super::losses`]) and TensorBoard's file, the controller's decisions to `decisions.jsonl`, and writes
//! checkpoints.

use super::Event;
use crate::checkpoint::Checkpoint;
use crate::control::Decision;
use crate::error::{Result, TrainError};
use crate::schedule::Progress;
use crate::train::StepLog;
use crossbeam_channel::{Receiver, Sender};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub enum Msg {
    Event(Event),
    /// Write a checkpoint (and the artifact of the model so far, if it has an inference
    /// form yet); `done` (if any) hears the result once both are on disk.
    Save {
        checkpoint: Box<Checkpoint>,
        artifact: Option<Vec<u8>>,
        done: Option<Sender<Result<PathBuf>>>,
    },
}

/// A JSONL file appended line by line (a crash leaves whole lines behind).
struct Jsonl {
    path: PathBuf,
    out: BufWriter<File>,
}

impl Jsonl {
    fn open(path: PathBuf, append: bool) -> Result<Jsonl> {
        let f = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&path)
            .map_err(|e| TrainError::write(path.clone(), e))?;
        Ok(Jsonl {
            path,
            out: BufWriter::new(f),
        })
    }
    /// The file rewritten to hold `prior`'s lines, then appended to.
    fn restart<T: serde::Serialize>(path: PathBuf, prior: &[T]) -> Result<Jsonl> {
        let mut bytes = vec![];
        for v in prior {
            serde_json::to_writer(&mut bytes, v).map_err(|e| TrainError::write(path.clone(), e))?;
            bytes.push(b'\n');
        }
        Ok(Jsonl {
            out: crate::output::rewritten(&path, &bytes)?,
            path,
        })
    }
    fn line<T: serde::Serialize>(&mut self, v: &T) -> Result<()> {
        serde_json::to_writer(&mut self.out, v)
            .map_err(|e| TrainError::write(self.path.clone(), e))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| TrainError::write(self.path.clone(), e))
    }
    fn flush(&mut self) -> Result<()> {
        self.out
            .flush()
            .map_err(|e| TrainError::write(self.path.clone(), e))
    }
}

/// What a resumed run had logged up to its checkpoint (nothing for a new run).
#[derive(Default)]
pub struct Prior {
    pub steps: Vec<StepLog>,
    pub decisions: Vec<Decision>,
}

/// Runs until every sender is gone. `dir`: the run folder (`None`: no files);
/// `append`: a resumed run continues `events.jsonl` (a log of what happened, the
/// crashed attempt's tail and the `resumed` event included); `losses.csv` and
/// `decisions.jsonl` start again from `prior`, the checkpoint's.
pub fn run(
    rx: Receiver<Msg>,
    sink: &mut (dyn Progress + Send),
    dir: Option<&Path>,
    append: bool,
    prior: &Prior,
) -> Result<()> {
    let mut files = match dir {
        Some(d) => Some((
            Jsonl::open(d.join("events.jsonl"), append)?,
            Jsonl::restart(d.join("decisions.jsonl"), &prior.decisions)?,
            super::losses::Losses::open(d.join("losses.csv"), &prior.steps)?,
            super::tensorboard::Writer::open(d, &prior.steps)?,
        )),
        None => None,
    };
    for msg in rx {
        match msg {
            Msg::Event(e) => {
                sink.event(&e);
                if let Some((events, decisions, losses, board)) = files.as_mut() {
                    events.line(&e)?;
                    match &e {
                        Event::Decision(d) => {
                            decisions.line(d)?;
                            decisions.flush()?;
                            events.flush()?;
                            losses.flush()?;
                            board.flush()?;
                        }
                        Event::Step(s) => {
                            losses.row(s)?;
                            board.step(s)?;
                        }
                        Event::Basis {
                            singular_values, ..
                        } => board.spectrum(singular_values)?,
                        Event::Start { .. } | Event::Checkpoint { .. } | Event::Resumed { .. } => {}
                    }
                }
            }
            Msg::Save {
                checkpoint,
                artifact,
                done,
            } => {
                let result = match dir {
                    Some(d) => {
                        let path = crate::checkpoint::path_in(d);
                        let art = match &artifact {
                            Some(bytes) => crate::output::write_atomic(
                                &d.join(crate::checkpoint::ARTIFACT),
                                bytes,
                            ),
                            None => Ok(()),
                        };
                        art.and_then(|_| checkpoint.write(&path)).map(|_| path)
                    }
                    None => Err(TrainError::Stage {
                        stage: "monitor",
                        reason: "a checkpoint needs a run folder".into(),
                    }),
                };
                if let (Ok(path), Some((events, _, losses, board))) = (&result, files.as_mut()) {
                    losses.flush()?;
                    board.flush()?;
                    let e = Event::Checkpoint {
                        step: checkpoint.step(),
                        path: path.clone(),
                    };
                    events.line(&e)?;
                    events.flush()?;
                    sink.event(&e);
                }
                match done {
                    Some(tx) => {
                        let _ = tx.send(result);
                    }
                    None => {
                        result?;
                    }
                }
            }
        }
    }
    if let Some((events, decisions, losses, board)) = files.as_mut() {
        events.flush()?;
        decisions.flush()?;
        losses.flush()?;
        board.flush()?;
    }
    Ok(())
}
