//! `--device cpu|cuda|cuda:N|auto`: which device a run's steps go to, and opening it.
//!
//! `auto` (the default) takes the first GPU when a CUDA driver and a device are found,
//! else the CPU, and says why in [`Opened::note`]. Asking for CUDA by name where there
//! is none is an error naming what was looked for, never a panic: cudarc panics when a
//! library is missing, so [`super::cuda::probe`] looks for every library first.

use super::{Cpu, Cuda, Device, Open};
use crate::error::{EngineError, Result};
use std::fmt;
use std::str::FromStr;

/// The device a user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The first device of the list that opens: a GPU if one can be used, else the CPU.
    #[default]
    Auto,
    /// Instance `n` of a kind (`cuda:1`; `cpu` is `cpu:0`).
    Named(Kind, usize),
}

macro_rules! devices {
    ($d:tt $($variant:ident($ty:ident)),* $(,)?) => {
        /// A kind of device, one per row of [`crate::with_devices!`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Kind {
            $($variant,)*
        }

        impl Kind {
            /// Every kind, in the order `auto` tries them.
            pub const ALL: &[Kind] = &[$(Kind::$variant,)*];

            /// The word `--device` names it by.
            pub fn word(self) -> &'static str {
                match self {
                    $(Kind::$variant => <$ty as Open>::WORD,)*
                }
            }

            fn aliases(self) -> &'static [&'static str] {
                match self {
                    $(Kind::$variant => <$ty as Open>::ALIASES,)*
                }
            }

            fn counted(self) -> bool {
                match self {
                    $(Kind::$variant => <$ty as Open>::COUNTED,)*
                }
            }

            /// Opens instance `n` of this kind.
            fn open(self, n: usize) -> std::result::Result<Opened, String> {
                match self {
                    $(Kind::$variant => <$ty as Open>::open(n).map(Opened::$variant),)*
                }
            }
        }

        /// An opened device; the CPU unless one is chosen.
        #[derive(Clone, Debug)]
        pub enum Opened {
            $($variant($ty),)*
        }

        impl Opened {
            /// How output and `metrics.json` name it: `cpu`, `cuda:0 (NVIDIA H100 …)`.
            pub fn name(&self) -> String {
                match self {
                    $(Opened::$variant(d) => d.name(),)*
                }
            }

            /// Free memory of a device with memory of its own (a GPU) as its driver
            /// reports it; `None` for the host, whose figure is the process's peak
            /// resident memory.
            pub fn gpu_free(&self) -> Option<u64> {
                match self {
                    $(Opened::$variant(d) => {
                        if <$ty as Open>::OWN_MEMORY { d.memory_available() } else { None }
                    })*
                }
            }
        }
    };
}

crate::with_devices!(devices);

impl Default for Opened {
    fn default() -> Self {
        Opened::Cpu(Cpu)
    }
}

/// The words `--device` accepts, for the error about one it does not.
fn expected() -> String {
    let mut kinds = Kind::ALL.to_vec();
    kinds.sort_by_key(|k| k.word());
    let mut words: Vec<String> = vec![];
    for k in kinds {
        words.push(format!("`{}`", k.word()));
        if k.counted() {
            words.push(format!("`{}:N`", k.word()));
        }
    }
    format!("{} or `auto`", words.join(", "))
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if s == "auto" {
            return Ok(DeviceChoice::Auto);
        }
        let (word, n) = match s.split_once(':') {
            Some((w, n)) => (w, n.parse::<usize>().ok()),
            None => (s, Some(0)),
        };
        let kind = Kind::ALL
            .iter()
            .find(|k| k.word() == word || k.aliases().contains(&word));
        match (kind, n) {
            (Some(k), Some(n)) => Ok(DeviceChoice::Named(*k, n)),
            (None, _) | (Some(_), None) => {
                Err(format!("unknown device `{s}`: expected {}", expected()))
            }
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => write!(f, "auto"),
            DeviceChoice::Named(k, n) if k.counted() || *n > 0 => write!(f, "{}:{n}", k.word()),
            DeviceChoice::Named(k, _) => write!(f, "{}", k.word()),
        }
    }
}

/// What [`DeviceChoice::open`] found: the device, and for `auto`, why it is not the
/// list's first.
#[derive(Debug)]
pub struct Found {
    pub device: Opened,
    /// Set when `auto` fell back past a device: the reason (no driver, no device, …).
    pub note: Option<String>,
}

impl DeviceChoice {
    /// Opens the device asked for. `auto` never fails: it takes the first device of
    /// the list that opens (the CPU always does), with the reasons for those before it
    /// in the note.
    pub fn open(self) -> Result<Found> {
        self.open_shifted(0)
    }

    /// [`DeviceChoice::open`] for a rank that shares its machine with others: the
    /// instances of a counted kind (GPUs) are numbered from `shift`, the rank's number
    /// on its machine, so that `--device cuda` under `mpirun` gives the ranks of a node
    /// cuda:0, cuda:1, … and `cuda:2` gives them cuda:2, cuda:3, …
    pub fn open_shifted(self, shift: usize) -> Result<Found> {
        let at = |k: Kind, n: usize| if k.counted() { n + shift } else { n };
        match self {
            DeviceChoice::Named(k, n) => {
                let asked = DeviceChoice::Named(k, at(k, n));
                let device = k.open(at(k, n)).map_err(|reason| EngineError::Device {
                    asked: asked.to_string(),
                    reason,
                })?;
                Ok(Found { device, note: None })
            }
            DeviceChoice::Auto => {
                let mut why = vec![];
                for k in Kind::ALL {
                    match k.open(at(*k, 0)) {
                        Ok(device) => {
                            let note = (!why.is_empty()).then(|| why.join("; "));
                            return Ok(Found { device, note });
                        }
                        Err(reason) => why.push(reason),
                    }
                }
                Ok(Found {
                    device: Opened::default(),
                    note: Some(why.join("; ")),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cuda::probe;

    /// A rank's shift moves only counted kinds: the CPU stays the CPU, `cuda` becomes
    /// the rank's GPU and an error names the GPU the rank asked for.
    #[test]
    fn ranks_of_one_machine_take_its_gpus_in_turn() {
        let cpu = DeviceChoice::Named(Kind::Cpu, 0).open_shifted(3);
        assert!(matches!(cpu.map(|f| f.device), Ok(Opened::Cpu(_))));
        let auto = DeviceChoice::Auto.open_shifted(3);
        assert!(auto.is_ok(), "auto always opens something");
        match DeviceChoice::Named(Kind::Cuda, 1).open_shifted(2) {
            Ok(Found {
                device: Opened::Cuda(gpu),
                ..
            }) => assert_eq!(gpu.ordinal(), 3),
            Ok(other) => panic!("cuda:1 shifted by 2 opened {:?}", other.device), // ok: test
            Err(e) => assert!(e.to_string().contains("cuda:3"), "{e}"),
        }
    }

    #[test]
    fn device_names_parse_and_print_back() {
        for (text, want) in [
            ("cpu", DeviceChoice::Named(Kind::Cpu, 0)),
            ("auto", DeviceChoice::Auto),
            ("cuda", DeviceChoice::Named(Kind::Cuda, 0)),
            ("cuda:3", DeviceChoice::Named(Kind::Cuda, 3)),
        ] {
            assert_eq!(text.parse::<DeviceChoice>(), Ok(want), "{text}");
        }
        assert_eq!(DeviceChoice::Named(Kind::Cuda, 2).to_string(), "cuda:2");
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
                let e = DeviceChoice::Named(Kind::Cuda, 0)
                    .open()
                    .unwrap_err()
                    .to_string();
                assert!(e.starts_with("cannot run on cuda:0: "), "{e}");
                assert!(e.contains("--device cpu"), "{e}");
                assert!(matches!(auto.device, Opened::Cpu(_)));
                assert_eq!(auto.note.as_deref(), Some(reason.as_str()));
            }
            Ok(n) => {
                let e = DeviceChoice::Named(Kind::Cuda, n)
                    .open()
                    .unwrap_err()
                    .to_string();
                assert!(e.contains(&format!("the driver lists {n} device")), "{e}");
                assert!(matches!(auto.device, Opened::Cuda(_)), "{:?}", auto.note);
            }
        }
    }
}
