//! Devices: where an op's buffers live and where its kernels run.
//!
//! Every hand-written op is split in two, as dfdx splits `conv2d` into the op and a
//! `Conv2DKernel` per device: the op in `ops/<op>/mod.rs` joins the tape (what is saved
//! for the backward, where gradients go) and declares a kernel trait, `<Op>Kernel<E>:
//! Device`, whose methods take and return this device's buffers; each device implements
//! it beside the op (`ops/<op>/cpu.rs` for [`Cpu`]). A new device implements [`Device`]
//! and every kernel trait, and the compiler lists what is missing.
//!
//! The tape ([`crate::tape`]) holds a device's buffers and runs its kernels, so a
//! model, its training step and its inference are written once over [`Backend`].
//!
//! The devices are one list, [`with_devices!`]: `--device` ([`DeviceChoice`], [`Opened`])
//! and the trainer's device with its resident parameters
//! ([`crate::resident::Placed`], dispatched by `on_placed!`) are generated from it. A
//! new device is its module here (its [`Device`] and [`Open`] impls), a row of the list
//! and the kernel traits, which the compiler lists.

/// Calls the macro `$m` with the list of devices, one row each: `Variant(Type)`, in the
/// order `--device auto` tries them (the CPU, which always opens, last). The `$` passed
/// first lets `$m` define macros of its own over the list.
#[macro_export]
macro_rules! with_devices {
    ($m:ident) => {
        $m! { $Cuda(Cuda), Cpu(Cpu) }
    };
}

mod cpu;
pub mod cuda;
#[cfg(test)]
pub(crate) mod matrix;
mod select;

pub use cpu::Cpu;
pub use cuda::Cuda;
pub use select::{DeviceChoice, Found, Kind, Opened};

use crate::pool::Shelved;

/// What a device's buffers hold: the training and checking precisions, and the masks a
/// fused ReLU keeps for its backward. Plain bits that a GPU can hold too.
pub trait Element: Shelved + cudarc::driver::DeviceRepr + cudarc::driver::ValidAsZeroBits {}

impl Element for f32 {}
impl Element for f64 {}
impl Element for bool {}

/// A device: its memory and how data crosses to and from the host.
///
/// A kernel reads and writes only `Buf`s; an op crosses to the host only for what must
/// be there (a loss value, the small matrices of the truncated SVD), through
/// [`Device::download`].
pub trait Device: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// `E`s in this device's memory.
    type Buf<E: Element>: Send + Sync + 'static;

    /// How output and `metrics.json` name the device: `cpu`, `cuda:0 (…)`.
    fn name(&self) -> String;

    /// The number of elements in `buf`.
    fn len<E: Element>(buf: &Self::Buf<E>) -> usize;

    /// A copy of host data in device memory.
    fn upload<E: Element>(&self, host: &[E]) -> Self::Buf<E>;

    /// A host copy of a device buffer.
    fn download<E: Element>(&self, buf: &Self::Buf<E>) -> Vec<E>;

    /// A device buffer copied into host memory of its length.
    fn download_into<E: Element>(&self, buf: &Self::Buf<E>, host: &mut [E]) {
        host.copy_from_slice(&self.download(buf));
    }

    /// Bytes a run may still allocate on this device, where the system says.
    fn memory_available(&self) -> Option<u64>;

    /// The first failure of a kernel since the device was opened, if any. Kernels
    /// return buffers, not results, as the CPU's cannot fail; a GPU's launch or
    /// allocation can, so it records the failure, skips the kernels after it, and the
    /// trainer asks here after every step and stops the run with the message.
    fn failure(&self) -> Option<String> {
        None
    }

    /// Waits until everything queued on the device has run (a GPU's kernels run
    /// asynchronously; the CPU's have finished when they return). Only profiling
    /// needs it: transfers to the host wait by themselves.
    fn synchronize(&self) {}
}

/// What `--device` needs of a device: the word it is named by and how to open it.
pub trait Open: Device + Sized {
    /// `cpu`, `cuda`: `--device` names it by this word, or `word:N` for instance N.
    const WORD: &'static str;
    /// Other words for it (`gpu` for `cuda`).
    const ALIASES: &'static [&'static str] = &[];
    /// Whether there can be several (`cuda:1`), so that names print the instance.
    const COUNTED: bool;
    /// Whether its memory is its own (a GPU's), which the memory budget is checked
    /// against before anything is allocated; the host's is not.
    const OWN_MEMORY: bool;
    /// Opens instance `n`, or says why it cannot.
    fn open(n: usize) -> std::result::Result<Self, String>;
}
