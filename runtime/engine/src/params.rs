//! The parameter registry: every trainable tensor of a model as host data with a
//! name and a shape, initialised like PyTorch's defaults from a seeded RNG.
//!
//! Parameters live on the host between steps; each step binds them to the tape
//! (`bind`), so optimisers, checkpoints and artifacts all work on plain vectors.

use crate::device::Device;
use crate::tape::TapeKernel;
use crate::tape::{Grads, Tape, Var};
use crate::tensor::Real;
use rand::{Rng, SeedableRng};

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// `encoder.0.weight`, `decoder.9.bias`, … (the IR node id).
    pub name: String,
    /// `[rows, cols]` for matrices, `[n]` for vectors.
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
    /// Frozen parameters are bound but never updated (the encoder during fine-tuning).
    pub frozen: bool,
}

impl Param {
    /// Its shape on the tape: `[rows, cols]` for a matrix, a `1 × n` row for a bias.
    pub fn dims(&self) -> (usize, usize) {
        match self.shape[..] {
            [r, c] => (r, c),
            _ => (1, self.data.len()),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamSet {
    pub params: Vec<Param>,
}

/// The gradient of every parameter var, on the host, in parameter order (zeros where
/// none arrived: the optimiser's moments still decay).
pub fn gradients<D: Device, E: Real>(
    grads: &mut Grads<D, E>,
    vars: &[Var],
    dev: &D,
) -> Vec<Vec<E>> {
    vars.iter()
        .map(|v| match grads.take(*v) {
            Some(g) => dev.download(&g),
            None => vec![E::zero(); v.len()],
        })
        .collect()
}

/// Uniform(−1/√fan_in, 1/√fan_in): PyTorch's default for linear and convolution
/// weights (kaiming_uniform with a = √5) and biases.
pub struct Init {
    rng: rand::rngs::StdRng,
}

impl Init {
    pub fn new(seed: u64) -> Self {
        Init {
            rng: rand::rngs::StdRng::seed_from_u64(seed),
        }
    }
    pub fn uniform(&mut self, n: usize, fan_in: usize) -> Vec<f32> {
        let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
        (0..n)
            .map(|_| self.rng.gen_range(-bound..bound) as f32)
            .collect()
    }
}

impl ParamSet {
    /// Adds a parameter and returns its index.
    pub fn push(&mut self, name: String, shape: Vec<usize>, data: Vec<f32>) -> usize {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        self.params.push(Param {
            name,
            shape,
            data,
            frozen: false,
        });
        self.params.len() - 1
    }

    /// Every parameter's values, in order (a snapshot for checkpoints).
    pub fn values(&self) -> Vec<Vec<f32>> {
        self.params.iter().map(|p| p.data.clone()).collect()
    }

    /// Puts back a snapshot taken by [`ParamSet::values`].
    pub fn set_values(&mut self, values: &[Vec<f32>]) {
        for (p, data) in self.params.iter_mut().zip(values) {
            p.data.clone_from(data);
        }
    }

    pub fn count(&self) -> usize {
        self.params.iter().map(|p| p.data.len()).sum()
    }

    /// Every parameter as a value on `tape`, converted to `E` (a matrix `[rows, cols]`,
    /// or a `1 × n` row for a bias), its gradient wanted.
    pub fn bind<D: TapeKernel<E>, E: Real>(&self, tape: &mut Tape<D, E>) -> Vec<Var> {
        self.params
            .iter()
            .map(|p| {
                let data: Vec<E> = p.data.iter().map(|&v| E::of(v as f64)).collect();
                let buf = tape.dev().upload(&data);
                let (r, c) = p.dims();
                tape.leaf(buf, r, c)
            })
            .collect()
    }

    /// Finds a parameter by name.
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}
