//! Host buffers that live for part of a training step, recycled by length across steps.
//!
//! An op's saved input copy, its ReLU mask, the column matrices it keeps for the
//! backward, its input gradient and the output gradient it takes from the tape are
//! activation-sized (1–32 MiB each on the bumps model) and have the same lengths every
//! step. Allocating them fresh cost an allocation and a serial zero-fill each; from a
//! shelf keyed by length they come back from the previous step with neither.
//! [`scratch`](super::scratch) is the per-thread counterpart for buffers that never
//! leave one kernel call; this pool is shared, because a buffer taken in the forward is
//! given back when the backward closure that saved it is dropped.
//!
//! ```
//! use rrae_engine::pool;
//! let mut a = pool::take::<f32>(1000);
//! a.fill(1.0); // taken buffers hold stale data: write before reading
//! let p = a.as_ptr();
//! drop(a); // back on the shelf
//! assert_eq!(pool::take::<f32>(1000).as_ptr(), p);
//! ```

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// What the shelves of one element type may hold between uses; a buffer given back
/// beyond it is freed. A training step of the bumps model keeps about 260 MiB here.
const CAP_BYTES: usize = 1 << 30;

/// Buffers shorter than this are not worth a lock: they are allocated and freed. The
/// crate's own tests shelve every length, so that the op tests' small shapes exercise
/// reuse (and, in debug builds, the poisoning of reused buffers).
const MIN_LEN: usize = if cfg!(test) { 1 } else { 1 << 12 };

/// Free buffers of one element type by exact length.
pub struct Shelf<E> {
    by_len: BTreeMap<usize, Vec<Vec<E>>>,
    bytes: usize,
}

impl<E> Shelf<E> {
    const fn new() -> Self {
        Shelf {
            by_len: BTreeMap::new(),
            bytes: 0,
        }
    }
}

/// Element types with a shelf.
pub trait Shelved: Copy + Default + Send + Sync + 'static {
    fn shelf() -> &'static Mutex<Shelf<Self>>;
    /// Debug builds fill reused buffers with this, so that a kernel reading what it has
    /// not written shows up as NaN in the op tests instead of as stale data.
    fn poison() -> Self;
}

static F32: Mutex<Shelf<f32>> = Mutex::new(Shelf::new());
static F64: Mutex<Shelf<f64>> = Mutex::new(Shelf::new());
static BOOL: Mutex<Shelf<bool>> = Mutex::new(Shelf::new());

impl Shelved for f32 {
    fn shelf() -> &'static Mutex<Shelf<f32>> {
        &F32
    }
    fn poison() -> f32 {
        f32::NAN
    }
}

impl Shelved for f64 {
    fn shelf() -> &'static Mutex<Shelf<f64>> {
        &F64
    }
    fn poison() -> f64 {
        f64::NAN
    }
}

impl Shelved for bool {
    fn shelf() -> &'static Mutex<Shelf<bool>> {
        &BOOL
    }
    fn poison() -> bool {
        true
    }
}

fn with_shelf<E: Shelved, R>(f: impl FnOnce(&mut Shelf<E>) -> R) -> R {
    // A panic while the lock was held cannot leave a shelf inconsistent (each operation
    // is one insert or remove), so a poisoned lock is used as is.
    let mut s = E::shelf().lock().unwrap_or_else(|e| e.into_inner());
    f(&mut s)
}

/// A buffer from the pool; dropping it puts it back.
pub struct Buf<E: Shelved>(Vec<E>);

/// A buffer of `len` elements with unspecified contents (stale data from its last
/// use; zeros when new): the caller must write every element it reads.
pub fn take<E: Shelved>(len: usize) -> Buf<E> {
    let reused = if len >= MIN_LEN {
        with_shelf::<E, _>(|s| {
            let list = s.by_len.get_mut(&len)?;
            let v = list.pop();
            if list.is_empty() {
                s.by_len.remove(&len);
            }
            if v.is_some() {
                s.bytes -= len * size_of::<E>();
            }
            v
        })
    } else {
        None
    };
    match reused {
        Some(mut v) => {
            if cfg!(debug_assertions) {
                v.fill(E::poison());
            }
            Buf(v)
        }
        None => Buf(vec![E::default(); len]),
    }
}

/// [`take`], filled with `E::default()` (zero); on the rayon pool when it is long
/// enough to split (64 Ki elements a piece), so it may be called from inside one.
pub fn zeroed<E: Shelved>(len: usize) -> Buf<E> {
    use rayon::prelude::*;
    let mut b = take(len);
    b.par_chunks_mut(1 << 16).for_each(|c| c.fill(E::default()));
    b
}

/// Whether a shelf holding `held` bytes may take `bytes` more.
fn admit(held: usize, bytes: usize) -> bool {
    held + bytes <= CAP_BYTES
}

/// Puts a buffer that came from elsewhere (an output gradient moved out of the tape)
/// on the shelf for the next [`take`] of its length.
pub fn give<E: Shelved>(mut v: Vec<E>) {
    let len = v.len();
    if len < MIN_LEN {
        return;
    }
    // Only the length is tracked: spare capacity would be lost to the accounting.
    v.shrink_to_fit();
    with_shelf::<E, _>(|s| {
        let bytes = len * size_of::<E>();
        if admit(s.bytes, bytes) {
            s.bytes += bytes;
            s.by_len.entry(len).or_default().push(v);
        }
    });
}

impl<E: Shelved> Buf<E> {
    /// A vector made elsewhere (a kernel's output, a gradient moved out of the tape),
    /// shelved when dropped like any taken buffer.
    pub fn from_vec(v: Vec<E>) -> Self {
        Buf(v)
    }

    /// The vector itself, leaving the pool for good.
    pub fn into_vec(mut self) -> Vec<E> {
        std::mem::take(&mut self.0)
    }
}

impl<E: Shelved> Drop for Buf<E> {
    fn drop(&mut self) {
        give(std::mem::take(&mut self.0));
    }
}

impl<E: Shelved> Deref for Buf<E> {
    type Target = [E];
    fn deref(&self) -> &[E] {
        &self.0
    }
}

impl<E: Shelved> DerefMut for Buf<E> {
    fn deref_mut(&mut self) -> &mut [E] {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lengths unique to each test: the shelves are shared by the tests running in
    // parallel.

    #[test]
    fn a_given_back_buffer_is_taken_again_by_length_only() {
        let a = take::<f64>(5003);
        let p = a.as_ptr();
        drop(a);
        assert_ne!(take::<f64>(5004).as_ptr(), p, "another length");
        let b = take::<f64>(5003);
        assert_eq!(b.as_ptr(), p);
        assert_eq!(b.len(), 5003);
        if cfg!(debug_assertions) {
            assert!(b.iter().all(|v| v.is_nan()), "reused buffers are poisoned");
        }
    }

    #[test]
    fn zeroed_clears_stale_data_and_into_vec_leaves_the_pool() {
        let mut a = take::<f32>(70_001);
        a.fill(3.0);
        drop(a);
        let z = zeroed::<f32>(70_001);
        assert!(z.iter().all(|&v| v == 0.0));
        let p = z.as_ptr();
        let v = z.into_vec();
        assert_eq!(v.as_ptr(), p);
        assert_ne!(take::<f32>(70_001).as_ptr(), p, "not shelved twice");
        drop(v);
    }

    #[test]
    fn the_cap_holds() {
        assert!(admit(0, CAP_BYTES));
        assert!(!admit(1, CAP_BYTES));
        assert!(!admit(CAP_BYTES, 4));
    }
}
