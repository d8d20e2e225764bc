//! How a run was asked for: the command line's changes to the model file
//! ([`Overrides`]), and their record in the run folder ([`Command`], `command.json`),
//! which `rrae run --resume DIR` repeats so that a resumed run is the run that started.

use crate::error::{Result, RunError};
use rrae_lang::set::Assignment;
use rrae_lang::Ir;
use std::path::Path;

/// The command line's changes to a model file: `--set PATH=VALUE` (applied to the text,
/// so checked as the file is) and `--steps`, `--fine-tune-steps`, `--seed` (applied to
/// the checked IR, since `--steps` also sets an adaptive search's budget).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Overrides {
    #[serde(default)]
    pub set: Vec<Assignment>,
    pub steps: Option<usize>,
    pub fine_tune_steps: Option<usize>,
    pub seed: Option<u64>,
}

impl Overrides {
    /// No change to the file.
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }

    /// The text of the model file `file` with every `--set` applied.
    pub fn source(&self, file: &str, text: &str) -> std::result::Result<String, String> {
        rrae_lang::set::apply(file, text, &self.set).map_err(|e| e.render())
    }

    pub fn apply(&self, ir: &mut Ir) {
        if let Some(s) = self.steps {
            set_steps(ir, s);
        }
        if let Some(s) = self.fine_tune_steps {
            ir.train.fine_tune_steps = s;
        }
        if let Some(s) = self.seed {
            ir.train.seed = s;
        }
    }

    /// The options as command-line words: `["--set", "latent.k=4", "--seed", "3"]`.
    pub fn argv(&self) -> Vec<String> {
        let mut out = vec![];
        for a in &self.set {
            out.extend(["--set".to_string(), a.to_string()]);
        }
        for (flag, v) in [
            ("--steps", self.steps.map(|v| v as u64)),
            ("--fine-tune-steps", self.fine_tune_steps.map(|v| v as u64)),
            ("--seed", self.seed),
        ] {
            if let Some(v) = v {
                out.extend([flag.to_string(), v.to_string()]);
            }
        }
        out
    }

    /// The options as they are written on a command line: ` --set latent.k=4 --seed 3`
    /// (empty when there are none), for hints that must be followed verbatim.
    pub fn args(&self) -> String {
        self.argv()
            .iter()
            .map(|w| format!(" {}", quote(w)))
            .collect()
    }
}

/// A word as a POSIX shell reads it back: quoted when it holds anything but
/// letters, digits and `._-=/,:+`.
pub fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-=/,:+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Sets the training phase's length: `steps`, and the adaptive search's budget.
pub fn set_steps(ir: &mut Ir, steps: usize) {
    ir.train.steps = steps;
    if let rrae_lang::ir::LatentOp::SvdTruncate(rrae_lang::ir::Rank::Adaptive {
        max_steps, ..
    }) = &mut ir.latent.op
    {
        *max_steps = Some(steps);
    }
}

/// `command.json` in a run folder: the model file, the overrides, and the hash of the
/// text that trained (the file with the overrides applied).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Command {
    pub file: String,
    pub overrides: Overrides,
    /// [`rrae_artifact::source_hash`] of the text that trained, in hex.
    pub source_hash: String,
}

pub const FILE: &str = "command.json";

impl Command {
    pub fn new(file: &str, overrides: &Overrides, source: &str) -> Command {
        Command {
            file: file.to_string(),
            overrides: overrides.clone(),
            source_hash: format!("{:016x}", rrae_artifact::source_hash(source)),
        }
    }

    /// The record in `dir`, if the run that made it wrote one (runs before this file
    /// existed did not).
    pub fn read(dir: &Path) -> Result<Option<Command>> {
        let path = dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| RunError::read(path, format!("not a command record: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RunError::read(path, e.to_string())),
        }
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(FILE);
        let json =
            serde_json::to_string_pretty(self).map_err(|e| RunError::write(path.clone(), e))?;
        Ok(rrae_train::output::write_atomic(&path, json.as_bytes())?)
    }

    /// The overrides a `--resume` of this run goes on with, and a note when they differ
    /// from the start's: the recorded ones when the command gives none; the given ones
    /// when they are the same, or add only `--steps` / `--fine-tune-steps` (the
    /// run goes on to the new lengths, and the note says so). Other differences are
    /// refused, since they would make another model out of the checkpoint.
    pub fn resumed_with(
        &self,
        given: &Overrides,
    ) -> std::result::Result<(Overrides, Option<String>), String> {
        if given.is_empty() || *given == self.overrides {
            return Ok((self.overrides.clone(), None));
        }
        let was = &self.overrides;
        // No --set and no --seed given means the run's own.
        let lengths_only = (given.set.is_empty() || given.set == was.set)
            && given.seed.is_none_or(|s| Some(s) == was.seed);
        if lengths_only {
            let mut o = was.clone();
            let mut changes = vec![];
            for (flag, new, old) in [
                ("--steps", given.steps, &mut o.steps),
                (
                    "--fine-tune-steps",
                    given.fine_tune_steps,
                    &mut o.fine_tune_steps,
                ),
            ] {
                if let Some(n) = new.filter(|n| Some(*n) != *old) {
                    let from = old.map_or("the file's".to_string(), |v| v.to_string());
                    changes.push(format!("{flag} {n} (it started with {from})"));
                    *old = Some(n);
                }
            }
            let note = (!changes.is_empty()).then(|| {
                format!(
                    "resuming with {}: the run goes on to the new length, so its trace is not the one a run of that length from the start would have",
                    changes.join(" and ")
                )
            });
            return Ok((o, note));
        }
        let was = match self.overrides.args() {
            a if a.is_empty() => " no --set, --steps, --fine-tune-steps or --seed".to_string(),
            a => a,
        };
        Err(format!(
            "this run started with{was}, and --resume repeats what it started with; give no options besides --resume (or other --steps / --fine-tune-steps), or start a new run folder with --out"
        ))
    }
}
