//! The heap, with its high-water mark: the artifact's interpreter allocates its
//! activations and outputs (`alloc`), and the footprint table reports the most it held.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};
use embedded_alloc::LlffHeap;

/// Bytes of RAM the heap may use: the decoder's activations and the outputs. The
/// bumps model's workload peaks at about 15 KiB (the weights stay in flash).
pub const BYTES: usize = 64 * 1024;

pub struct Counting {
    heap: LlffHeap,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl Counting {
    pub const fn new() -> Counting {
        Counting {
            heap: LlffHeap::empty(),
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Gives the heap its [`BYTES`] of static memory; called once, first thing.
    pub fn init(&self) {
        use core::mem::MaybeUninit;
        static mut MEMORY: [MaybeUninit<u8>; BYTES] = [MaybeUninit::uninit(); BYTES];
        // SAFETY: called once before any allocation; MEMORY is used by nothing else.
        unsafe {
            self.heap
                .init(core::ptr::addr_of_mut!(MEMORY) as usize, BYTES)
        }
    }

    /// The most bytes allocated at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

// SAFETY: forwards to LlffHeap, which is a GlobalAlloc; only counts beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.heap.alloc(layout) };
        if !p.is_null() {
            let now = self.used.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.heap.dealloc(ptr, layout) };
        self.used.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}
