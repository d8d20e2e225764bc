//! The host as a device: buffers are pooled host vectors ([`crate::pool`]), so a kernel
//! works on slices and an op's output moves into a dfdx tensor without a copy.

use super::{Device, Element};
use crate::pool::{self, Buf};

/// The CPU: kernels on the rayon pool, memory from the buffer pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu;

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
}
