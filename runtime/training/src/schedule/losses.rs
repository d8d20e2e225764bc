//! `losses.csv`: a row per step (phase, step, k, loss, validation, penalty, ms), written and
//! read through the `csv` crate. A resumed run starts the file again from the
//! checkpoint's log, so steps logged after the checkpoint by a crashed run do not stay
//! twice. The numbers are formatted here (the loss and the validation as Rust prints an
//! f64: the shortest text that reads back to the same value; the time to the
//! microsecond), so the file's text is the same as it always was.

use crate::error::{Result, TrainError};
use crate::output::rewritten;
use crate::train::StepLog;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// The file's columns. The wall time stays last, so that a trace without timings is each
/// row less its last field.
pub const COLUMNS: [&str; 7] = ["phase", "step", "k", "loss", "validation", "penalty", "ms"];

/// One row as its fields.
fn fields(s: &StepLog) -> [String; 7] {
    [
        s.phase.name().to_string(),
        s.step.to_string(),
        s.k.to_string(),
        s.loss.to_string(),
        s.validation.map(|v| v.to_string()).unwrap_or_default(),
        s.penalty.map(|v| v.to_string()).unwrap_or_default(),
        format!("{:.3}", s.ms),
    ]
}

/// The writer of a run's `losses.csv`.
pub struct Losses {
    path: PathBuf,
    out: csv::Writer<BufWriter<File>>,
}

impl Losses {
    /// The header and `prior`'s rows (written atomically), then appended to.
    pub fn open(path: PathBuf, prior: &[StepLog]) -> Result<Losses> {
        let fail =
            |e: csv::Error| TrainError::write(path.clone(), std::io::Error::other(e.to_string()));
        let mut head = csv::Writer::from_writer(vec![]);
        head.write_record(COLUMNS).map_err(fail)?;
        for s in prior {
            head.write_record(fields(s)).map_err(fail)?;
        }
        let bytes = head
            .into_inner()
            .map_err(|e| TrainError::write(path.clone(), std::io::Error::other(e.to_string())))?;
        let out = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(rewritten(&path, &bytes)?);
        Ok(Losses { path, out })
    }

    fn fail(&self, e: impl std::fmt::Display) -> TrainError {
        TrainError::write(self.path.clone(), std::io::Error::other(e.to_string()))
    }

    pub fn row(&mut self, s: &StepLog) -> Result<()> {
        let r = self.out.write_record(fields(s));
        r.map_err(|e| self.fail(e))
    }

    pub fn flush(&mut self) -> Result<()> {
        let r = self.out.flush();
        r.map_err(|e| self.fail(e))
    }
}

/// One row of a `losses.csv` as read back.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Row {
    pub phase: String,
    pub step: usize,
    pub k: usize,
    pub loss: f64,
    #[serde(default)]
    pub validation: Option<f64>,
    pub ms: f64,
    /// The latent operator's term of `loss`; absent in files written before it was.
    #[serde(default)]
    pub penalty: Option<f64>,
}

/// The rows of a `losses.csv` (files written before the validation column read too).
pub fn read(path: &Path) -> std::result::Result<Vec<Row>, String> {
    let mut r = csv::Reader::from_path(path).map_err(|e| e.to_string())?;
    r.deserialize()
        .map(|row| row.map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Phase;

    fn step(phase: Phase, step: usize, validation: Option<f64>) -> StepLog {
        StepLog {
            phase,
            step,
            k: 3,
            loss: 0.1 + step as f64,
            ms: 1.23456,
            validation,
            lr: 1e-3,
            penalty: (phase == Phase::Train && step == 1).then_some(0.25),
        }
    }

    #[test]
    fn rows_are_written_as_before_and_read_back() {
        let dir = std::env::temp_dir().join(format!("rrae-losses-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap(); // ok: test
        let path = dir.join("losses.csv");
        let mut w = Losses::open(path.clone(), &[step(Phase::Train, 0, None)]).unwrap(); // ok: test
        w.row(&step(Phase::Train, 1, Some(2.5))).unwrap(); // ok: test
        w.row(&step(Phase::FineTune, 0, None)).unwrap(); // ok: test
        w.flush().unwrap(); // ok: test
        let text = std::fs::read_to_string(&path).unwrap(); // ok: test
        assert_eq!(
            text,
            "phase,step,k,loss,validation,penalty,ms\ntrain,0,3,0.1,,,1.235\ntrain,1,3,1.1,2.5,0.25,1.235\nfine_tune,0,3,0.1,,,1.235\n"
        );
        let rows = read(&path).unwrap(); // ok: test
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[1].validation, rows[0].validation), (Some(2.5), None));
        assert_eq!((rows[1].penalty, rows[0].penalty), (Some(0.25), None));
        assert_eq!(rows[2].phase, "fine_tune");
        // A file from before the validation column reads too; a damaged one is an error.
        std::fs::write(&path, "phase,step,k,loss,ms\ntrain,0,2,1.5,0.1\n").unwrap(); // ok: test
        assert_eq!(read(&path).unwrap()[0].validation, None); // ok: test
        std::fs::write(
            &path,
            "phase,step,k,loss,validation,ms\ntrain,x,2,1.5,,0.1\n",
        )
        .unwrap(); // ok: test
        assert!(read(&path).is_err());
        std::fs::remove_dir_all(dir).unwrap(); // ok: test
    }
}
