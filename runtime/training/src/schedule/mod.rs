//! The dataflow runtime: loader → trainer → monitor, connected by bounded crossbeam
//! channels, with the controller's decisions applied by the trainer between steps.
//!
//! ```text
//!  loader ──batches (4)──▶ trainer ──events (1024)──▶ monitor ─▶ terminal, events.jsonl,
//!                          ▲    │                               decisions.jsonl, checkpoints
//!                          └────┘ controller: step loss → decisions
//! ```
//!
//! The controller is a pure state machine ([`crate::control`]) that the trainer calls
//! after each step, so decisions land at a deterministic step. A stage that fails
//! stops the pipeline: a monitor that cannot write makes the next send fail, the
//! trainer stops and the monitor's error is reported; a trainer error drops the
//! channels, which ends the loader and the monitor.

pub mod loader;
pub mod losses;
pub mod monitor;
pub mod tensorboard;

use crate::checkpoint::Checkpoint;
use crate::control::{Decision, Phase};
use crate::error::{Result, TrainError};
use crate::train::{StepLog, Trainer};
use crossbeam_channel::{bounded, Sender};
use monitor::Msg;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What the stages report, as the terminal shows it and `events.jsonl` records it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A phase begins (or resumes at `from`); `steps` is its length or budget.
    Start {
        phase: Phase,
        steps: usize,
        from: usize,
    },
    /// One step, as the trainer logged it.
    Step(StepLog),
    Decision(Decision),
    /// The common basis U_f: its rank and the singular values of the stacked bases.
    Basis {
        rank: usize,
        singular_values: Vec<f64>,
    },
    Checkpoint {
        step: usize,
        path: PathBuf,
    },
    Resumed {
        step: usize,
    },
}

/// What the CLI shows while a run goes; it runs on the monitor stage's thread.
pub trait Progress: Send {
    fn event(&mut self, e: &Event);
    fn message(&mut self, msg: &str);
}

/// Reports nothing: the progress of a rank other than 0, whose rank 0 reports the run.
pub struct Silent;

impl Progress for Silent {
    fn event(&mut self, _: &Event) {}
    fn message(&mut self, _: &str) {}
}

/// Makes the artifact of the run so far (`None` while there is none to write).
pub type ArtifactWriter = fn(&Trainer) -> Option<Vec<u8>>;

/// A run folder: where the monitor writes logs and checkpoints, and how the run's
/// artifact is made for each checkpoint. The artifact format belongs to the reporting
/// crate above this one, so it hands its writer down rather than this crate calling up.
#[derive(Clone, Copy)]
pub struct RunFolder<'p> {
    pub path: &'p Path,
    pub artifact: ArtifactWriter,
}

/// How a run is stopped from outside: Ctrl-C / SIGTERM set `stop`; tests (and
/// `--stop-after`) name a step.
#[derive(Clone, Debug, Default)]
pub struct RunControl {
    pub stop: Arc<AtomicBool>,
    /// True while training steps run, the only time a stop can end at a checkpoint: a
    /// signal handler that finds it false (loading data, evaluating) ends the process
    /// at once instead of waiting for a step that will not come.
    pub stepping: Arc<AtomicBool>,
    /// Stop once this many steps (training and fine-tuning) are done.
    pub stop_after: Option<usize>,
}

impl Trainer<'_> {
    /// Trains without a run folder: the stages run, events go to `on`.
    pub fn run(&mut self, on: &mut (dyn FnMut(&Event) + Send)) -> Result<()> {
        struct Sink<'f>(&'f mut (dyn FnMut(&Event) + Send));
        impl Progress for Sink<'_> {
            fn event(&mut self, e: &Event) {
                (self.0)(e)
            }
            fn message(&mut self, _: &str) {}
        }
        let control = RunControl::default();
        run(self, &control, &mut Sink(on), None)
    }
}

impl RunControl {
    fn should_stop(&self, done: usize) -> bool {
        self.stop.load(Ordering::SeqCst) || self.stop_after.is_some_and(|n| done >= n)
    }
}

/// Trains `t` to the end (or until stopped). With a run folder, events and decisions
/// are logged there, checkpoints are written every `checkpoint_every` steps, and a
/// stop writes one and returns [`TrainError::Interrupted`].
pub fn run(
    t: &mut Trainer,
    control: &RunControl,
    sink: &mut (dyn Progress + Send),
    folder: Option<RunFolder>,
) -> Result<()> {
    let dir = folder.map(|f| f.path);
    let artifact = folder.map(|f| f.artifact);
    let append = t.controller.as_ref().is_some_and(|c| !c.done());
    // A resumed run's logs start again from the checkpoint: what a crashed run logged
    // after it is replaced, not repeated.
    let prior = if append {
        monitor::Prior {
            steps: t.log.clone(),
            decisions: t.decisions.clone(),
        }
    } else {
        monitor::Prior::default()
    };
    std::thread::scope(|s| {
        let (tx, rx) = bounded::<Msg>(1024);
        let prior = &prior;
        let monitor = s.spawn(move || monitor::run(rx, sink, dir, append, prior));
        let trained = drive(t, control, &tx, s, artifact);
        // Whatever ended the run, its readers find the parameters on the host.
        t.sync_params();
        drop(tx);
        let monitored = monitor.join().unwrap_or_else(|_| {
            Err(TrainError::Stage {
                stage: "monitor",
                reason: "it panicked".into(),
            })
        });
        match (trained, monitored) {
            // A monitor failure is the cause when the trainer only saw it hang up.
            (
                Err(TrainError::Stage {
                    stage: "monitor", ..
                }),
                Err(e),
            ) => Err(e),
            (Err(e), _) => Err(e),
            (Ok(()), m) => m,
        }
    })
}

fn send(tx: &Sender<Msg>, e: Event) -> Result<()> {
    tx.send(Msg::Event(e)).map_err(|_| TrainError::Stage {
        stage: "monitor",
        reason: "it stopped".into(),
    })
}

fn start_event(t: &Trainer) -> Event {
    let phase = t.phase();
    let c = t.controller.as_ref();
    let (a, b) = c.map_or((0, 0), |c| c.steps());
    let (steps, from) = match phase {
        Phase::Train => (c.map_or(0, |c| c.options().max_steps), a),
        Phase::FineTune => (t.model.ir.train.fine_tune_steps, b),
    };
    Event::Start { phase, steps, from }
}

/// The training thread: steps, decisions, checkpoints.
fn drive<'s, 'd: 's>(
    t: &mut Trainer<'d>,
    control: &RunControl,
    tx: &Sender<Msg>,
    s: &'s std::thread::Scope<'s, '_>,
    artifact: Option<ArtifactWriter>,
) -> Result<()> {
    let has_dir = artifact.is_some();
    let resumed = t.controller.as_ref().is_some_and(|c| !c.done());
    let first = t.start();
    if resumed {
        let step = t.controller.as_ref().map_or(0, |c| c.steps_done());
        send(tx, Event::Resumed { step })?;
    }
    send(tx, start_event(t))?;
    apply_all(t, tx, first)?;
    let data = t.data;
    let replay = crate::data::replay::Replay::from_env(data.n_train(), t.model.ir.train.batch)?;
    let mut loader: Option<(Phase, crossbeam_channel::Receiver<loader::Batch>)> = None;
    /// Clears `stepping` however the loop ends.
    struct Stepping<'a>(&'a AtomicBool);
    impl Drop for Stepping<'_> {
        fn drop(&mut self) {
            self.0.store(false, Ordering::SeqCst);
        }
    }
    control.stepping.store(true, Ordering::SeqCst);
    let _stepping = Stepping(&control.stepping);
    while let Some(c) = t.controller.as_ref().filter(|c| !c.done()) {
        let phase = c.phase();
        let (done_train, done_fine) = c.steps();
        // A stop asked on any rank (Ctrl-C reaches each at its own step) stops all of
        // them at this one.
        if t.on_any_rank(control.should_stop(done_train + done_fine))? {
            return interrupt(t, tx, artifact);
        }
        if loader.as_ref().is_none_or(|(p, _)| *p != phase) {
            let skip = match phase {
                Phase::Train => done_train,
                Phase::FineTune => done_fine,
            };
            let seed = loader::phase_seed(t.model.ir.train.seed, phase);
            let src = loader::Source {
                rows: &data.train,
                dim: data.dim,
                batch: t.model.ir.train.batch,
                seed,
                replay: replay.order(phase),
            };
            loader = Some((phase, loader::spawn(s, src, skip)));
        }
        let wait = Instant::now();
        let batch = match loader.as_ref().map(|(_, rx)| rx.recv()) {
            Some(Ok(b)) => b,
            _ => {
                return Err(TrainError::Stage {
                    stage: "loader",
                    reason: "it stopped before the run ended".into(),
                })
            }
        };
        t.data_wait += wait.elapsed();
        let loss = t.step(&batch.idx, batch.x)?;
        if t.log.last().is_some_and(|l| t.validates_after(l.step)) {
            let v = t.validation_loss()?;
            if let Some(l) = t.log.last_mut() {
                l.validation = Some(v);
            }
        }
        if let Some(l) = t.log.last() {
            send(tx, Event::Step(l.clone()))?;
        }
        let before = t.phase();
        let decisions = match t.controller.as_mut() {
            Some(c) => c.observe(loss),
            None => vec![],
        };
        apply_all(t, tx, decisions)?;
        if t.phase() != before && !t.controller.as_ref().is_some_and(|c| c.done()) {
            send(tx, start_event(t))?;
        }
        let done = t.controller.as_ref().map_or(0, |c| c.steps_done());
        if let (Some(every), true) = (t.model.ir.train.checkpoint_every, has_dir) {
            if every > 0 && done.is_multiple_of(every) {
                t.sync_params();
                if let Some(ck) = Checkpoint::of(t) {
                    let msg = Msg::Save {
                        checkpoint: Box::new(ck),
                        artifact: artifact.and_then(|a| a(t)),
                        done: None,
                    };
                    tx.send(msg).map_err(|_| TrainError::Stage {
                        stage: "monitor",
                        reason: "it stopped".into(),
                    })?;
                }
            }
        }
    }
    Ok(())
}

fn apply_all(t: &mut Trainer, tx: &Sender<Msg>, ds: Vec<Decision>) -> Result<()> {
    for d in ds {
        let basis = t.apply(&d)?;
        send(tx, Event::Decision(d))?;
        if let Some((rank, singular_values)) = basis {
            send(
                tx,
                Event::Basis {
                    rank,
                    singular_values,
                },
            )?;
        }
    }
    Ok(())
}

/// A stop request: write the checkpoint (and wait until it is on disk), then report.
fn interrupt(t: &mut Trainer, tx: &Sender<Msg>, artifact: Option<ArtifactWriter>) -> Result<()> {
    t.sync_params();
    let step = t.controller.as_ref().map_or(0, |c| c.steps_done());
    let mut path = None;
    if let (Some(ck), Some(artifact)) = (Checkpoint::of(t), artifact) {
        let (done_tx, done_rx) = bounded(1);
        let msg = Msg::Save {
            checkpoint: Box::new(ck),
            artifact: artifact(t),
            done: Some(done_tx),
        };
        let hung_up = || TrainError::Stage {
            stage: "monitor",
            reason: "it stopped".into(),
        };
        tx.send(msg).map_err(|_| hung_up())?;
        path = Some(done_rx.recv().map_err(|_| hung_up())??);
    }
    Err(TrainError::Interrupted {
        step,
        checkpoint: path,
    })
}
