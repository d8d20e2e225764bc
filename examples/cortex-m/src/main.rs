//! A trained rrae model on a Cortex-M4F: the artifact embedded in flash at build time
//! (`RRAE_MODEL=…/model.rra`), opened with the verifying open, then the jobs of
//! `workload.rs` (decode, interpolate, sample) with each output's hash printed over
//! semihosting, the heap's high-water mark and the SysTick count per job, and the
//! exit status through semihosting: 0 when every job ran, 1 when the artifact is
//! refused or a job fails (with the message).
//!
//!   RRAE_MODEL=path/to/model.rra cargo run --release    # under QEMU (mps2-an386)

#![no_std]
#![no_main]

extern crate alloc;

mod heap;
#[path = "workload.rs"]
mod workload;
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}

use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

#[global_allocator]
static HEAP: heap::Counting = heap::Counting::new();

#[entry]
fn main() -> ! {
    HEAP.init();
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        fail("the core peripherals were taken twice")
    };
    start(&mut cp.SYST);
    let bytes: &[u8] = &model::MODEL.0;
    hprintln!("model: {} bytes at {:p}", bytes.len(), bytes.as_ptr());
    let view = match rrae_artifact::View::open(bytes) {
        Ok(v) => v,
        Err(e) => fail_with("the artifact is refused", &e),
    };
    let open_ticks = lap(&mut cp.SYST);
    hprintln!(
        "opened: input {} values, latent {}, k {}",
        view.input_len(),
        view.latent_dim(),
        view.k()
    );
    // SysTick counts the board's clock; under `-icount` QEMU runs a fixed number of
    // instructions per tick, which this loop of 2 × 1,000,000 instructions measures.
    lap(&mut cp.SYST);
    cortex_m::asm::delay(999_999);
    let calibration = lap(&mut cp.SYST);
    let coefficients = alloc::vec![0.5f32; view.k()];
    lap(&mut cp.SYST);
    let decoded = view.decode(&coefficients);
    let decode_ticks = lap(&mut cp.SYST);
    if let Err(e) = decoded {
        fail_with("a decode failed", &e);
    }
    hprintln!(
        "ticks: open (verifying) {}, one decode {}, 2000000 instructions {}",
        open_ticks,
        decode_ticks,
        calibration
    );
    let mut emit = |label: &str, i: usize, v: &[f32]| {
        hprintln!(
            "{} {}: n={} hash={:016x}",
            label,
            i,
            v.len(),
            workload::hash(v)
        );
    };
    if let Err(e) = workload::run(&view, &mut emit) {
        fail_with("a job failed", &e);
    }
    hprintln!(
        "heap high-water mark: {} bytes of {}",
        HEAP.peak(),
        heap::BYTES
    );
    hprintln!("done");
    debug::exit(debug::EXIT_SUCCESS);
    halt()
}

/// SysTick as a free-running counter of core clock cycles (24 bits, reloaded).
fn start(syst: &mut SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00ff_ffff);
    syst.clear_current();
    syst.enable_counter();
}

static mut LAST: u32 = 0x00ff_ffff;

/// Core clock ticks since the last lap (SysTick counts down; one wrap at most between
/// laps: 16.7 M ticks).
fn lap(_: &mut SYST) -> u32 {
    let now = SYST::get_current();
    // SAFETY: one thread, no interrupt handler touches LAST.
    let last = unsafe { LAST };
    unsafe { LAST = now };
    last.wrapping_sub(now) & 0x00ff_ffff
}

fn fail_with(what: &str, e: &dyn core::fmt::Display) -> ! {
    hprintln!("error: {}: {}", what, e);
    debug::exit(debug::EXIT_FAILURE);
    halt()
}

fn fail(what: &str) -> ! {
    hprintln!("error: {}", what);
    debug::exit(debug::EXIT_FAILURE);
    halt()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    halt()
}

/// Where a board without a debugger stays after `exit` (semihosting's exit ends QEMU
/// and a probe-run session; on a free-running board it does nothing).
fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
