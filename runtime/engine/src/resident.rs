//! Parameters, gradients and optimiser moments kept in a device's memory for a run.
//!
//! The host's [`ParamSet`] and [`Optimizer`] are what checkpoints, snapshots and
//! artifacts read; a [`Resident`] is their copy on the device the steps run on. A step
//! binds the parameters to the tape without copying them ([`Resident::bind`]), the
//! gradients stay where the backward left them, and the optimiser kernel updates
//! parameters and moments in place ([`Resident::update`]). What crosses to the host is
//! chosen by the caller: the parameters only when something reads them (the trainer's
//! `sync_params` before a decision, a checkpoint, a stop or the end of the run, through
//! [`Resident::download_params`]), so a GPU step returns only its loss; the moments only
//! when a checkpoint or a snapshot asks ([`Resident::moments`]).
//!
//! [`Placed`], the run's device with its resident copy, is generated from the device
//! list ([`crate::with_devices!`]); the trainer runs its device-generic code on it with
//! `on_placed!`.

use crate::device::{Cpu, Cuda, Device, Opened};
use crate::error::{EngineError, Result};
use crate::optim::{Optimizer, OptimizerKernel};
use crate::params::ParamSet;
use crate::tape::{Grads, Tape, TapeKernel, Var};

/// The device copy of a model's parameters and its optimiser's moments.
pub struct Resident<D: Device> {
    params: Vec<D::Buf<f32>>,
    m: Vec<D::Buf<f32>>,
    v: Vec<D::Buf<f32>>,
}

impl<D: OptimizerKernel + TapeKernel<f32>> Resident<D> {
    /// Copies `ps` and the moments of `opt` to `dev`; an optimiser whose moments were
    /// never allocated (read from a checkpoint of another kind) starts from zeros.
    pub fn upload(dev: &D, ps: &ParamSet, opt: &Optimizer) -> Self {
        let moment = |held: &[Vec<f32>], i: usize, n: usize| match held.get(i) {
            Some(x) if x.len() == n => dev.upload(x),
            _ => dev.zeros(n),
        };
        let n = |i: usize| ps.params[i].data.len();
        let count = ps.params.len();
        Resident {
            params: ps.params.iter().map(|p| dev.upload(&p.data)).collect(),
            m: (0..count).map(|i| moment(&opt.m, i, n(i))).collect(),
            v: (0..count).map(|i| moment(&opt.v, i, n(i))).collect(),
        }
    }

    /// Every parameter as a value on `tape`, borrowed (a matrix `[rows, cols]`, or a
    /// `1 × n` row for a bias), its gradient wanted.
    pub fn bind<'p>(&'p self, tape: &mut Tape<'p, D, f32>, ps: &ParamSet) -> Vec<Var> {
        self.params
            .iter()
            .zip(&ps.params)
            .map(|(buf, p)| {
                let (r, c) = p.dims();
                tape.param(buf, r, c)
            })
            .collect()
    }

    /// Takes the gradients of the bound `vars` out of `grads` (zeros where none arrived,
    /// `None` for frozen parameters, which get no update), and refuses a non-finite
    /// one, naming the first such parameter.
    pub fn gradients(
        &self,
        dev: &D,
        grads: &mut Grads<D, f32>,
        vars: &[Var],
        ps: &ParamSet,
    ) -> std::result::Result<Vec<Option<D::Buf<f32>>>, String> {
        let out = self.raw_gradients(dev, grads, vars, ps);
        Self::check(dev, &out, ps)?;
        Ok(out)
    }

    /// The gradients of the trainable parameters (zeros where none reached one),
    /// unchecked: a data-parallel step sums them over the ranks first.
    pub fn raw_gradients(
        &self,
        dev: &D,
        grads: &mut Grads<D, f32>,
        vars: &[Var],
        ps: &ParamSet,
    ) -> Vec<Option<D::Buf<f32>>> {
        vars.iter()
            .zip(&ps.params)
            .map(|(v, p)| {
                let g = grads.take(*v);
                (!p.frozen).then(|| g.unwrap_or_else(|| dev.zeros(v.len())))
            })
            .collect()
    }

    /// The name of the first parameter whose gradient is not finite, as the error.
    pub fn check(
        dev: &D,
        out: &[Option<D::Buf<f32>>],
        ps: &ParamSet,
    ) -> std::result::Result<(), String> {
        let (names, checked): (Vec<&str>, Vec<&D::Buf<f32>>) = out
            .iter()
            .zip(&ps.params)
            .filter_map(|(g, p)| g.as_ref().map(|g| (p.name.as_str(), g)))
            .unzip();
        match dev.first_non_finite(&checked) {
            Some(i) => Err(names[i].to_string()),
            None => Ok(()),
        }
    }

    /// One optimiser step at learning rate `lr` with the gradients from
    /// [`Resident::gradients`]; counts the step in `opt`.
    pub fn update(
        &mut self,
        dev: &D,
        opt: &mut Optimizer,
        grads: &[Option<D::Buf<f32>>],
        lr: f64,
    ) -> Result<()> {
        if grads.len() != self.params.len() {
            return Err(EngineError::ShapeMismatch {
                op: "optimiser update (gradients, parameters)",
                lhs: (grads.len(), 1),
                rhs: (self.params.len(), 1),
            });
        }
        let u = opt.next_update(lr);
        let state = self
            .params
            .iter_mut()
            .zip(self.m.iter_mut().zip(&mut self.v));
        for ((p, (m, v)), g) in state.zip(grads) {
            if let Some(g) = g {
                dev.optimizer_update(u, p, g, m, v);
            }
        }
        Ok(())
    }

    /// Copies the parameters back into the host's `ps`.
    pub fn download_params(&self, dev: &D, ps: &mut ParamSet) {
        for (p, buf) in ps.params.iter_mut().zip(&self.params) {
            dev.download_into(buf, &mut p.data);
        }
    }

    /// The optimiser `opt` with the moments held here, for a checkpoint or a snapshot.
    pub fn moments(&self, dev: &D, opt: &Optimizer) -> Optimizer {
        let down = |bufs: &[D::Buf<f32>]| bufs.iter().map(|b| dev.download(b)).collect();
        let mut out = opt.clone();
        (out.m, out.v) = (down(&self.m), down(&self.v));
        out
    }
}

macro_rules! placed {
    ($d:tt $($variant:ident($ty:ident)),* $(,)?) => {
        /// A run's device and the parameters and moments kept on it while steps run
        /// (`None` before the first step and after anything that replaces them on the
        /// host): one variant per device of [`crate::with_devices!`]. Code generic over
        /// the device runs on it through `on_placed!`.
        pub enum Placed {
            $($variant($ty, Option<Resident<$ty>>),)*
        }

        impl Placed {
            /// `device`, with nothing resident yet.
            pub fn new(device: Opened) -> Placed {
                match device {
                    $(Opened::$variant(d) => Placed::$variant(d, None),)*
                }
            }
        }

        /// `on_placed!(placed, dev, res => body)`: `body` with `dev` the device and
        /// `res` its resident slot, once per device of the list (each arm is compiled
        /// for its own device type).
        #[macro_export]
        macro_rules! on_placed {
            ($d placed:expr, $d dev:ident, $d res:ident => $d body:expr) => {
                match $d placed {
                    $($crate::resident::Placed::$variant($d dev, $d res) => $d body,)*
                }
            };
        }
    };
}

crate::with_devices!(placed);
