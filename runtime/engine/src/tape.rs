//! The engine's tape: reverse-mode differentiation over one device's buffers.
//!
//! A forward pass records every value it computes, as a [`Var`] (an index and a shape)
//! whose buffer the tape owns in the device's memory, and, for each op whose output
//! needs a gradient, a backward closure. [`Tape::backward`] runs the closures in reverse
//! order; each reads the values it needs from the tape, takes its output's gradient
//! and adds its inputs' gradients. Nothing crosses to the host but what an op asks for
//! (a loss value, the small factors of a truncated SVD), so the same tape runs on any
//! [`Device`].
//!
//! Parameters are borrowed, not copied: [`Tape::param`] refers to a buffer the caller
//! keeps resident (on the host today, on the GPU with the CUDA device) for the whole
//! run, and the gradients come back as device buffers for the optimiser's kernel.
//!
//! Gradients are wanted only where they can reach a parameter or a leaf: the input
//! batch and the projector are constants, so the first layer computes no `∂ℓ/∂x` it
//! would throw away. A tape made with [`Tape::inference`] records no backward at all.

use crate::device::Device;
use crate::error::{EngineError, Result};
use crate::noise::Noise;
use crate::tensor::Real;

/// What the tape itself needs from a device: zeros for a gradient accumulated in
/// place, `acc += δ` when a value feeds several ops, copies, and sums. The CPU's is in
/// `ops/elementwise/`.
pub trait TapeKernel<E: Real>: Device {
    /// `n` zeros.
    fn zeros(&self, n: usize) -> Self::Buf<E>;

    /// A copy of `x`.
    fn copy(&self, x: &Self::Buf<E>) -> Self::Buf<E>;

    /// `acc += delta`.
    fn add_assign(&self, acc: &mut Self::Buf<E>, delta: &Self::Buf<E>);

    /// `a + b`.
    fn add(&self, a: &Self::Buf<E>, b: &Self::Buf<E>) -> Self::Buf<E>;
}

/// A value on the tape: a `rows × cols` row-major matrix (a 1 × 1 one for a scalar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Var {
    id: usize,
    pub rows: usize,
    pub cols: usize,
}

impl Var {
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a value's buffer is.
enum Value<'p, B> {
    /// Computed on this tape.
    Owned(B),
    /// Kept by the caller for longer than the tape (a parameter, the projector).
    Borrowed(&'p B),
    /// Freed: no backward will read it again.
    Released,
}

type BackwardOp<D, E> = Box<dyn for<'a, 'p> FnOnce(&mut Pass<'a, 'p, D, E>) -> Result<()>>;

/// A forward pass and what its backward needs.
pub struct Tape<'p, D: Device, E: Real> {
    dev: D,
    record: bool,
    values: Vec<Value<'p, D::Buf<E>>>,
    wants: Vec<bool>,
    /// (the op's output, its backward), in the order the forward ran.
    ops: Vec<(usize, BackwardOp<D, E>)>,
    /// The step's normal draws, for a training tape that samples ([`Tape::with_noise`]).
    noise: Option<Noise>,
}

/// What a backward closure sees: the forward's values and the gradients so far.
pub struct Pass<'a, 'p, D: Device, E: Real> {
    dev: &'a D,
    values: &'a [Value<'p, D::Buf<E>>],
    wants: &'a [bool],
    grads: &'a mut Vec<Option<D::Buf<E>>>,
}

/// The gradients a backward pass produced, by [`Var`].
pub struct Grads<D: Device, E: Real> {
    grads: Vec<Option<D::Buf<E>>>,
}

fn read<'v, B>(values: &'v [Value<'_, B>], v: Var) -> &'v B {
    match &values[v.id] {
        Value::Owned(b) => b,
        Value::Borrowed(b) => b,
        // A value is released only after the last backward that reads it (the one of
        // the op that made it), or by `release` after its last forward use.
        Value::Released => unreachable!("value %{} read after release", v.id), // ok: see above
    }
}

impl<'p, D: Device + TapeKernel<E>, E: Real> Tape<'p, D, E> {
    /// A tape for training: ops record their backward.
    pub fn new(dev: D) -> Self {
        Self::with_recording(dev, true)
    }

    /// A tape for inference: nothing is recorded, and [`Tape::release`] frees a value
    /// as soon as the next layer has read it.
    pub fn inference(dev: D) -> Self {
        Self::with_recording(dev, false)
    }

    fn with_recording(dev: D, record: bool) -> Self {
        Tape {
            dev,
            record,
            values: vec![],
            wants: vec![],
            ops: vec![],
            noise: None,
        }
    }

    /// The tape of training step `step` of a run seeded `seed`: a variational latent
    /// samples its ε from [`Noise::new`]`(seed, step)`.
    pub fn with_noise(mut self, seed: u64, step: u64) -> Self {
        self.noise = Some(Noise::new(seed, step));
        self
    }

    /// `n` standard normals from the step's stream; `None` on a tape without noise (an
    /// inference tape), where a variational latent takes its mean.
    pub fn normals(&mut self, n: usize) -> Option<Vec<f64>> {
        self.noise.as_mut().map(|r| r.normals(n))
    }

    pub fn dev(&self) -> &D {
        &self.dev
    }

    /// Whether ops record their backward.
    pub fn records(&self) -> bool {
        self.record
    }

    fn push(&mut self, value: Value<'p, D::Buf<E>>, rows: usize, cols: usize, wants: bool) -> Var {
        debug_assert!(match &value {
            Value::Owned(b) => D::len(b) == rows * cols,
            Value::Borrowed(b) => D::len(*b) == rows * cols,
            Value::Released => false,
        });
        self.values.push(value);
        self.wants.push(wants && self.record);
        Var {
            id: self.values.len() - 1,
            rows,
            cols,
        }
    }

    /// A value no gradient flows to (a batch of data).
    pub fn constant(&mut self, buf: D::Buf<E>, rows: usize, cols: usize) -> Var {
        self.push(Value::Owned(buf), rows, cols, false)
    }

    /// A borrowed value no gradient flows to (a fixed projector).
    pub fn constant_ref(&mut self, buf: &'p D::Buf<E>, rows: usize, cols: usize) -> Var {
        self.push(Value::Borrowed(buf), rows, cols, false)
    }

    /// An owned value whose gradient is wanted (a parameter converted to `f64`, a
    /// gradient check's input).
    pub fn leaf(&mut self, buf: D::Buf<E>, rows: usize, cols: usize) -> Var {
        self.push(Value::Owned(buf), rows, cols, true)
    }

    /// A parameter the caller keeps resident; its gradient is wanted.
    pub fn param(&mut self, buf: &'p D::Buf<E>, rows: usize, cols: usize) -> Var {
        self.push(Value::Borrowed(buf), rows, cols, true)
    }

    /// An op's output, made from `inputs`: it wants a gradient when one of them does.
    pub fn output(&mut self, buf: D::Buf<E>, rows: usize, cols: usize, inputs: &[Var]) -> Var {
        let wants = inputs.iter().any(|v| self.wants[v.id]);
        self.push(Value::Owned(buf), rows, cols, wants)
    }

    /// A host value uploaded as an op's output (a loss, a penalty).
    pub fn scalar(&mut self, value: E, inputs: &[Var]) -> Var {
        let buf = self.dev.upload(&[value]);
        self.output(buf, 1, 1, inputs)
    }

    pub fn value(&self, v: Var) -> &D::Buf<E> {
        read(&self.values, v)
    }

    /// Whether `v`'s gradient is wanted.
    pub fn wants(&self, v: Var) -> bool {
        self.wants[v.id]
    }

    /// Registers the backward of the op that made `out`; a no-op when `out` wants no
    /// gradient (inference, or nothing trainable upstream).
    pub fn on_backward(
        &mut self,
        out: Var,
        f: impl for<'a, 'q> FnOnce(&mut Pass<'a, 'q, D, E>) -> Result<()> + 'static,
    ) {
        if self.wants[out.id] {
            self.ops.push((out.id, Box::new(f)));
        }
    }

    /// Frees a value no op will read again (inference only: a recording tape keeps
    /// what its backward reads).
    pub fn release(&mut self, v: Var) {
        if !self.record && matches!(self.values[v.id], Value::Owned(_)) {
            self.values[v.id] = Value::Released;
        }
    }

    /// A host copy of a value.
    pub fn download(&self, v: Var) -> Vec<E> {
        self.dev.download(self.value(v))
    }

    /// The value of a scalar (a loss), on the host.
    pub fn item(&self, v: Var) -> f64 {
        self.download(v).first().map_or(f64::NAN, |x| x.f64())
    }

    /// Runs every recorded backward, last first, from `∂ℓ/∂loss = 1`.
    pub fn backward(mut self, loss: Var) -> Result<Grads<D, E>> {
        if loss.len() != 1 {
            return Err(EngineError::ShapeMismatch {
                op: "backward (from a scalar)",
                lhs: loss.shape(),
                rhs: (1, 1),
            });
        }
        let mut grads: Vec<Option<D::Buf<E>>> = Vec::with_capacity(self.values.len());
        grads.resize_with(self.values.len(), || None);
        grads[loss.id] = Some(self.dev.upload(&[E::one()]));
        while let Some((out, op)) = self.ops.pop() {
            let mut pass = Pass {
                dev: &self.dev,
                values: &self.values,
                wants: &self.wants,
                grads: &mut grads,
            };
            op(&mut pass)?;
            // Only backwards of earlier ops remain, and they never read a later value.
            if matches!(self.values[out], Value::Owned(_)) {
                self.values[out] = Value::Released;
            }
        }
        Ok(Grads { grads })
    }
}

impl<D: Device + TapeKernel<E>, E: Real> Pass<'_, '_, D, E> {
    pub fn dev(&self) -> &D {
        self.dev
    }

    pub fn value(&self, v: Var) -> &D::Buf<E> {
        read(self.values, v)
    }

    pub fn wants(&self, v: Var) -> bool {
        self.wants[v.id]
    }

    /// The gradient that reached an op's output, moved out: that op is its last reader
    /// (`None` when nothing reached it, and the op has nothing to pass on).
    pub fn take_grad(&mut self, out: Var) -> Option<D::Buf<E>> {
        self.grads[out.id].take()
    }

    /// Adds `delta` into `v`'s gradient (the first contribution is moved in).
    pub fn add_grad(&mut self, v: Var, delta: D::Buf<E>) {
        if !self.wants[v.id] {
            return;
        }
        match &mut self.grads[v.id] {
            Some(acc) => self.dev.add_assign(acc, &delta),
            slot @ None => *slot = Some(delta),
        }
    }

    /// `v`'s gradient so far (zeros if none yet), moved out for an op to accumulate
    /// into in place and hand back with [`Pass::put_grad`]; `None` when it is not
    /// wanted.
    pub fn grad_or_zeros(&mut self, v: Var) -> Option<D::Buf<E>> {
        if !self.wants[v.id] {
            return None;
        }
        Some(match self.grads[v.id].take() {
            Some(g) => g,
            None => self.dev.zeros(v.len()),
        })
    }

    /// Puts back a gradient taken with [`Pass::grad_or_zeros`].
    pub fn put_grad(&mut self, v: Var, g: D::Buf<E>) {
        self.grads[v.id] = Some(g);
    }
}

impl<D: Device, E: Real> Grads<D, E> {
    /// `v`'s gradient, moved out (`None` when none reached it).
    pub fn take(&mut self, v: Var) -> Option<D::Buf<E>> {
        self.grads.get_mut(v.id).and_then(Option::take)
    }

    pub fn get(&self, v: Var) -> Option<&D::Buf<E>> {
        self.grads.get(v.id).and_then(Option::as_ref)
    }
}

/// Backward wall time per op, collected only while `RRAE_DEBUG` profiling is on.
pub mod timing {
    use crate::profile::Profile;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    static ON: AtomicBool = AtomicBool::new(false);
    static ROWS: Mutex<Profile> = Mutex::new(Profile { rows: Vec::new() });

    pub fn enable(on: bool) {
        ON.store(on, Ordering::Relaxed);
    }

    /// Whether ops are being timed: a GPU then waits for each op to finish, so that
    /// its time is the op's and not its launch's.
    pub fn on() -> bool {
        ON.load(Ordering::Relaxed)
    }

    /// Runs `f`, adding its time under `label` when profiling.
    pub fn timed<R>(label: impl FnOnce() -> String, f: impl FnOnce() -> R) -> R {
        if !ON.load(Ordering::Relaxed) {
            return f();
        }
        let t0 = Instant::now();
        let r = f();
        let d = t0.elapsed();
        if let Ok(mut rows) = ROWS.lock() {
            rows.add(&label(), d);
        }
        r
    }

    /// The collected rows, emptied.
    pub fn take() -> Vec<(String, Duration, usize)> {
        ROWS.lock()
            .map(|mut p| std::mem::take(&mut p.rows))
            .unwrap_or_default()
    }
}
