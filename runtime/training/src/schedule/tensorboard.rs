//! TensorBoard's event file, written as the run goes: `tensorboard --logdir runs/`
//! shows every run folder as a run, with the losses (training, fine-tuning,
//! validation, the latent operator's penalty), the rank k and the learning rate as scalars, and the common basis's
//! singular-value spectrum as a histogram.
//!
//! No maintained crate writes the format (tensorboard-rs, the one that exists, was
//! last released in 2022 on protobuf 2 and says it is not active), and the part we
//! need is small: TFRecord framing (length, masked CRC-32C of the length, payload,
//! masked CRC-32C of the payload) around `Event` protocol buffers, encoded here by
//! hand. `tests/tracking.rs` reads the file back with the `tensorboard` package's own
//! reader.
//!
//! The spectrum is a histogram whose bucket i (from i − 1 to i) holds σᵢ/σ₁, so that
//! TensorBoard's histogram view draws the spectrum's shape over the mode index.

use crate::error::{Result, TrainError};
use crate::train::{Phase, StepLog};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The event file's name in a run folder (TensorBoard reads any name with
/// `tfevents` in it); one per run, rewritten when a run resumes.
pub const FILE: &str = "events.out.tfevents.rrae";

pub struct Writer {
    path: PathBuf,
    out: BufWriter<File>,
    /// Training steps logged so far: fine-tuning's steps follow them on the x axis.
    train_steps: usize,
}

impl Writer {
    /// The file started afresh in `dir` with `prior`'s steps (a resumed run's log up to
    /// its checkpoint), written atomically.
    pub fn open(dir: &Path, prior: &[StepLog]) -> Result<Writer> {
        let path = dir.join(FILE);
        let mut head = vec![];
        record(&mut head, &event(0, Body::Version));
        let mut train_steps = 0;
        for s in prior {
            step_record(&mut head, &mut train_steps, s);
        }
        crate::output::write_atomic(&path, &head)?;
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| TrainError::write(path.clone(), e))?;
        Ok(Writer {
            out: BufWriter::new(f),
            path,
            train_steps,
        })
    }

    /// One step's scalars.
    pub fn step(&mut self, s: &StepLog) -> Result<()> {
        let mut buf = vec![];
        step_record(&mut buf, &mut self.train_steps, s);
        self.write(&buf)
    }

    /// The common basis's spectrum σᵢ/σ₁, at the last training step.
    pub fn spectrum(&mut self, singular_values: &[f64]) -> Result<()> {
        let mut buf = vec![];
        let step = self.train_steps as i64;
        record(
            &mut buf,
            &event(
                step,
                Body::Spectrum("singular_values/common_basis", singular_values),
            ),
        );
        self.write(&buf)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| TrainError::write(self.path.clone(), e))
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out
            .flush()
            .map_err(|e| TrainError::write(self.path.clone(), e))
    }
}

/// One step's scalars as a record; `train_steps` counts the training steps, after
/// which fine-tuning's steps go on the x axis.
fn step_record(buf: &mut Vec<u8>, train_steps: &mut usize, s: &StepLog) {
    let global = match s.phase {
        Phase::Train => {
            *train_steps = (*train_steps).max(s.step + 1);
            s.step
        }
        Phase::FineTune => *train_steps + s.step,
    } as i64;
    let loss_tag = match s.phase {
        Phase::Train => "loss/train",
        Phase::FineTune => "loss/fine_tune",
    };
    let mut values = vec![
        (loss_tag, s.loss),
        ("k", s.k as f64),
        ("learning_rate", s.lr),
    ];
    if let Some(v) = s.validation {
        values.push(("loss/validation", v));
    }
    if let Some(p) = s.penalty {
        values.push(("loss/penalty", p));
    }
    record(buf, &event(global, Body::Scalars(&values)));
}

/// What an event carries.
enum Body<'a> {
    /// `file_version`, the first event of every file.
    Version,
    Scalars(&'a [(&'a str, f64)]),
    Spectrum(&'a str, &'a [f64]),
}

/// `tensorboard.Event`: wall_time (1, double), step (2, int64), file_version (3,
/// string) or summary (5, Summary { repeated Value value = 1 }).
fn event(step: i64, body: Body) -> Vec<u8> {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut e = vec![];
    fixed64(&mut e, 1, wall.to_bits());
    varint_field(&mut e, 2, step as u64);
    match body {
        Body::Version => bytes_field(&mut e, 3, b"brain.Event:2"),
        Body::Scalars(values) => {
            let mut summary = vec![];
            for (tag, v) in values {
                // Summary.Value: tag (1, string), simple_value (2, float).
                let mut value = vec![];
                bytes_field(&mut value, 1, tag.as_bytes());
                key(&mut value, 2, 5);
                value.extend_from_slice(&(*v as f32).to_le_bytes());
                bytes_field(&mut summary, 1, &value);
            }
            bytes_field(&mut e, 5, &summary);
        }
        Body::Spectrum(tag, s) => {
            let first = s.first().copied().filter(|v| *v > 0.0).unwrap_or(1.0);
            let heights: Vec<f64> = s.iter().map(|v| v / first).collect();
            // HistogramProto: min (1), max (2), num (3), sum (4), sum_squares (5),
            // bucket_limit (6, packed), bucket (7, packed).
            let mut h = vec![];
            fixed64(&mut h, 1, 0f64.to_bits());
            fixed64(&mut h, 2, (heights.len() as f64).to_bits());
            fixed64(&mut h, 3, heights.iter().sum::<f64>().to_bits());
            fixed64(
                &mut h,
                4,
                heights
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i as f64 + 0.5) * v)
                    .sum::<f64>()
                    .to_bits(),
            );
            fixed64(
                &mut h,
                5,
                heights
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i as f64 + 0.5).powi(2) * v)
                    .sum::<f64>()
                    .to_bits(),
            );
            let limits: Vec<u8> = (1..=heights.len())
                .flat_map(|i| (i as f64).to_le_bytes())
                .collect();
            bytes_field(&mut h, 6, &limits);
            let buckets: Vec<u8> = heights.iter().flat_map(|v| v.to_le_bytes()).collect();
            bytes_field(&mut h, 7, &buckets);
            let mut value = vec![];
            bytes_field(&mut value, 1, tag.as_bytes());
            bytes_field(&mut value, 5, &h);
            let mut summary = vec![];
            bytes_field(&mut summary, 1, &value);
            bytes_field(&mut e, 5, &summary);
        }
    }
    e
}

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn key(buf: &mut Vec<u8>, field: u32, wire: u8) {
    varint(buf, (u64::from(field) << 3) | u64::from(wire));
}

fn varint_field(buf: &mut Vec<u8>, field: u32, v: u64) {
    key(buf, field, 0);
    varint(buf, v);
}

fn fixed64(buf: &mut Vec<u8>, field: u32, bits: u64) {
    key(buf, field, 1);
    buf.extend_from_slice(&bits.to_le_bytes());
}

fn bytes_field(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(buf, field, 2);
    varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// One TFRecord: length, its masked CRC, the payload, its masked CRC.
fn record(buf: &mut Vec<u8>, payload: &[u8]) {
    let len = (payload.len() as u64).to_le_bytes();
    buf.extend_from_slice(&len);
    buf.extend_from_slice(&masked_crc(&len).to_le_bytes());
    buf.extend_from_slice(payload);
    buf.extend_from_slice(&masked_crc(payload).to_le_bytes());
}

fn masked_crc(bytes: &[u8]) -> u32 {
    let c = crc32c(bytes);
    c.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: the event
/// file is small next to a training step, so no table.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_has_the_standards_check_value() {
        // RFC 3720 B.4 and every CRC catalogue: CRC-32C("123456789") = 0xE3069283.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
    }

    #[test]
    fn varints_encode_as_protobuf_does() {
        let mut b = vec![];
        varint(&mut b, 300);
        assert_eq!(b, [0xAC, 0x02]);
        let mut b = vec![];
        varint_field(&mut b, 2, 1);
        assert_eq!(b, [0x10, 0x01]);
    }
}
