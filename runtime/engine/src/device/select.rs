//! `--device cpu|cuda|cuda:N|auto`: which device a run's steps go to, and opening it.
//!
//! `auto` (the default) takes the first GPU when a CUDA driver and a device are found,
//! else the CPU, and says why in [`Opened::note`]. Asking for CUDA by name where there
//! is none is an error naming what was looked for, never a panic: cudarc panics when a
//! library is missing, so [`super::cuda::probe`] looks for every library first.

use super::cuda::{probe, Cuda};
use super::Cpu;
use crate::error::{Result, RuntimeError};
use std::fmt;
use std::str::FromStr;

/// The device a user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The first GPU if one can be used, else the CPU.
    #[default]
    Auto,
    Cpu,
    /// The GPU with this ordinal (`cuda` is `cuda:0`).
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("unknown device `{s}`: expected `cpu`, `cuda`, `cuda:N` or `auto`");
        match s.trim() {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            other => match other.strip_prefix("cuda:") {
                Some(n) => n.parse().map(DeviceChoice::Cuda).map_err(|_| bad()),
                None => Err(bad()),
            },
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => write!(f, "auto"),
            DeviceChoice::Cpu => write!(f, "cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// An opened device; the CPU unless one is chosen.
#[derive(Clone, Debug)]
pub enum Opened {
    Cpu(Cpu),
    Cuda(Cuda),
}

impl Default for Opened {
    fn default() -> Self {
        Opened::Cpu(Cpu)
    }
}

impl Opened {
    /// How output and `metrics.json` name it: `cpu`, `cuda:0 (NVIDIA H100 …)`.
    pub fn name(&self) -> String {
        use super::Device;
        match self {
            Opened::Cpu(d) => d.name(),
            Opened::Cuda(d) => d.name(),
        }
    }

    /// Free memory on a GPU as its driver reports it; `None` on the CPU, whose figure
    /// is the process's peak resident memory.
    pub fn gpu_free(&self) -> Option<u64> {
        use super::Device;
        match self {
            Opened::Cpu(_) => None,
            Opened::Cuda(d) => d.memory_available(),
        }
    }
}

/// What [`DeviceChoice::open`] found: the device, and for `auto`, why it is the CPU.
#[derive(Debug)]
pub struct Found {
    pub device: Opened,
    /// Set when `auto` fell back to the CPU: the reason (no driver, no device, …).
    pub note: Option<String>,
}

impl DeviceChoice {
    /// Opens the device asked for. `auto` never fails: without a usable GPU it is the
    /// CPU, with the reason in the note.
    pub fn open(self) -> Result<Found> {
        match self {
            DeviceChoice::Cpu => Ok(Found {
                device: Opened::Cpu(Cpu),
                note: None,
            }),
            DeviceChoice::Cuda(n) => {
                let dev = open_cuda(n).map_err(|reason| RuntimeError::Device {
                    asked: self.to_string(),
                    reason,
                })?;
                Ok(Found {
                    device: Opened::Cuda(dev),
                    note: None,
                })
            }
            DeviceChoice::Auto => Ok(match open_cuda(0) {
                Ok(dev) => Found {
                    device: Opened::Cuda(dev),
                    note: None,
                },
                Err(reason) => Found {
                    device: Opened::Cpu(Cpu),
                    note: Some(reason),
                },
            }),
        }
    }
}

fn open_cuda(ordinal: usize) -> std::result::Result<Cuda, String> {
    let count = probe::device_count()?;
    if ordinal >= count {
        return Err(format!(
            "cuda:{ordinal} asked for, but the driver lists {count} device{}",
            if count == 1 { "" } else { "s" }
        ));
    }
    Cuda::new(ordinal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse_and_print_back() {
        for (text, want) in [
            ("cpu", DeviceChoice::Cpu),
            ("auto", DeviceChoice::Auto),
            ("cuda", DeviceChoice::Cuda(0)),
            ("cuda:3", DeviceChoice::Cuda(3)),
        ] {
            assert_eq!(text.parse::<DeviceChoice>(), Ok(want), "{text}");
        }
        assert_eq!(DeviceChoice::Cuda(2).to_string(), "cuda:2");
        for bad in ["tpu", "cuda:", "cuda:x", "cuda:-1", ""] {
            let e = bad.parse::<DeviceChoice>().unwrap_err();
            assert!(
                e.contains("expected `cpu`, `cuda`, `cuda:N` or `auto`"),
                "{bad}: {e}"
            );
        }
    }

    /// On a machine without a driver (CI), asking for CUDA is an error that says what
    /// was looked for, and `auto` is the CPU with that reason; with one, both open it.
    #[test]
    fn cuda_without_a_driver_is_an_error_and_auto_is_the_cpu() {
        let auto = DeviceChoice::Auto.open().expect("auto always opens"); // ok: test
        match probe::device_count() {
            Err(reason) => {
                let e = DeviceChoice::Cuda(0).open().unwrap_err().to_string();
                assert!(e.starts_with("cannot run on cuda:0: "), "{e}");
                assert!(e.contains("--device cpu"), "{e}");
                assert!(matches!(auto.device, Opened::Cpu(_)));
                assert_eq!(auto.note.as_deref(), Some(reason.as_str()));
            }
            Ok(n) => {
                let e = DeviceChoice::Cuda(n).open().unwrap_err().to_string();
                assert!(e.contains(&format!("the driver lists {n} device")), "{e}");
                assert!(matches!(auto.device, Opened::Cuda(_)), "{:?}", auto.note);
            }
        }
    }
}
