//! Per-thread scratch buffers, reused across calls and training steps.
//!
//! The conv kernels need a column matrix (or a wide row buffer) per sample while they
//! work on it: one sample of the bumps model's last conv-transpose is 4.7 MB. Fresh
//! `vec![0; n]`s cost an allocation and a zero-fill each (260 allocations and 61 MiB
//! per step of the bumps model, measured with `rrae bench`); a pool per rayon thread
//! serves them from the second step on with neither. Only buffers that never leave the
//! kernel come from here: outputs are the device's buffers ([`crate::pool`]).
//!
//! ```
//! use rrae_engine::scratch;
//! // The closure writes every element before it reads any.
//! let sum = scratch::with(4, |b: &mut [f32]| {
//!     b.fill(0.5);
//!     b.iter().sum::<f32>()
//! });
//! assert_eq!(sum, 2.0);
//! ```

use std::cell::RefCell;

/// Element types with a pool: the two the ops are generic over.
pub trait Pooled: Copy + num_traits::Zero + 'static {
    fn pool<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R;
}

thread_local! {
    static F32: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
    static F64: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

impl Pooled for f32 {
    fn pool<R>(f: impl FnOnce(&mut Vec<Vec<f32>>) -> R) -> R {
        F32.with(|p| f(&mut p.borrow_mut()))
    }
}

impl Pooled for f64 {
    fn pool<R>(f: impl FnOnce(&mut Vec<Vec<f64>>) -> R) -> R {
        F64.with(|p| f(&mut p.borrow_mut()))
    }
}

/// Runs `f` on a buffer of `len` elements from this thread's pool and puts it back.
///
/// The contents are whatever the last user left (zeros when the buffer is new): `f`
/// must write every element it reads. Nested calls get distinct buffers; a buffer
/// grows to the largest `len` its thread asks for, so after the first training step
/// the pool allocates nothing.
pub fn with<E: Pooled, R>(len: usize, f: impl FnOnce(&mut [E]) -> R) -> R {
    // The pool is borrowed only to pop and push, never while `f` runs, so `f` may use
    // the pool itself (or run other rayon work on this thread) without a double borrow.
    let mut buf = E::pool(|p| p.pop()).unwrap_or_default();
    if buf.len() < len {
        buf.resize(len, E::zero());
    }
    let r = f(&mut buf[..len]);
    E::pool(|p| p.push(buf));
    r
}

/// [`with`], zero-filled first, for callers that accumulate into the buffer.
pub fn with_zeroed<E: Pooled, R>(len: usize, f: impl FnOnce(&mut [E]) -> R) -> R {
    with(len, |b: &mut [E]| {
        b.iter_mut().for_each(|v| *v = E::zero());
        f(b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_nested_calls_get_distinct_ones() {
        let outer_ptr = with(1000, |a: &mut [f32]| {
            a.iter_mut().for_each(|v| *v = 1.0);
            let inner_ptr = with(10, |b: &mut [f32]| {
                assert_eq!(b.len(), 10);
                b.as_ptr()
            });
            assert_ne!(inner_ptr, a.as_ptr());
            assert!(
                a.iter().all(|&v| v == 1.0),
                "the nested call left `a` alone"
            );
            a.as_ptr()
        });
        // The same thread gets a pooled buffer back: no new allocation for a size it
        // has served before, and the old contents are still there (not zeroed).
        let again = with(1000, |a: &mut [f32]| (a.as_ptr(), a[999]));
        assert_eq!(again, (outer_ptr, 1.0));
        // A smaller request is served by a larger pooled buffer, not a new one.
        let small = with(500, |a: &mut [f32]| a.as_ptr());
        assert_eq!(small, outer_ptr);
        with_zeroed(1000, |a: &mut [f32]| assert!(a.iter().all(|&v| v == 0.0)));
        // f64 has its own pool.
        with(3, |a: &mut [f64]| assert_eq!(a.len(), 3));
    }
}
