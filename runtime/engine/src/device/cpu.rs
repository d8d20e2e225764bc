//! The host as a device: buffers are pooled host vectors ([`crate::pool`]), so a kernel
//! works on slices and a buffer freed on the tape is the next step's, without an
//! allocation.

use super::{Device, Element};
use crate::pool::{self, Buf};

/// The CPU: kernels on the rayon pool, memory from the buffer pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu;

impl super::Open for Cpu {
    const WORD: &'static str = "cpu";
    const COUNTED: bool = false;
    const OWN_MEMORY: bool = false;

    fn open(n: usize) -> Result<Cpu, String> {
        match n {
            0 => Ok(Cpu),
            n => Err(format!(
                "cpu:{n} asked for: the host is one device, `cpu` (its threads are RAYON_NUM_THREADS)"
            )),
        }
    }
}

impl Device for Cpu {
    type Buf<E: Element> = Buf<E>;

    fn name(&self) -> String {
        "cpu".into()
    }

    fn len<E: Element>(buf: &Buf<E>) -> usize {
        buf.len()
    }

    fn upload<E: Element>(&self, host: &[E]) -> Buf<E> {
        let mut b = pool::take(host.len());
        b.copy_from_slice(host);
        b
    }

    fn download<E: Element>(&self, buf: &Buf<E>) -> Vec<E> {
        buf.to_vec()
    }

    fn download_into<E: Element>(&self, buf: &Buf<E>, host: &mut [E]) {
        host.copy_from_slice(buf);
    }

    /// `MemAvailable` of `/proc/meminfo` (Linux): free memory plus what the kernel can
    /// reclaim, the figure the kernel itself offers for "can this allocation fit".
    fn memory_available(&self) -> Option<u64> {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_as_it_went_up() {
        let host = [1.5f32, -2.0, 0.0, 7.25];
        let b = Cpu.upload(&host);
        assert_eq!(Cpu::len(&b), 4);
        assert_eq!(Cpu.download(&b), host.to_vec());
        assert_eq!(Cpu.name(), "cpu");
    }

    #[test]
    fn this_machine_reports_its_available_memory() {
        let have = Cpu.memory_available();
        if std::path::Path::new("/proc/meminfo").exists() {
            assert!(have.is_some_and(|b| b > 1 << 20), "{have:?}");
        } else {
            assert_eq!(have, None);
        }
    }
}
