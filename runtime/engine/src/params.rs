//! The parameter registry: every trainable tensor of a model as host data with a
//! name and a shape, initialised like PyTorch's defaults from a seeded RNG.
//!
//! Parameters live on the host between steps; each step binds them to dfdx tensors
//! (`bind`), so optimisers, checkpoints and artifacts all work on plain vectors.

use crate::tensor::{Mat, Real, Vector};
use dfdx::prelude::*;
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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamSet {
    pub params: Vec<Param>,
}

/// One step's view of the parameters as dfdx tensors, indexed like `ParamSet`.
pub enum Bound<E: Real> {
    Mat(Mat<E>),
    Vec(Vector<E>),
}

impl<E: Real> Bound<E> {
    pub fn mat(&self) -> &Mat<E> {
        match self {
            Bound::Mat(m) => m,
            Bound::Vec(_) => unreachable!("weights are bound as matrices"), // ok: `bind` makes every 2-D parameter a matrix
        }
    }
    pub fn vec(&self) -> &Vector<E> {
        match self {
            Bound::Vec(v) => v,
            Bound::Mat(_) => unreachable!("biases are bound as vectors"), // ok: `bind` makes every 1-D parameter a vector
        }
    }
}

/// The gradient of every bound tensor, in parameter order (zeros where none arrived).
pub fn gradients<E: Real>(
    grads: &mut dfdx::tensor::Gradients<E, Cpu>,
    bound: &[Bound<E>],
) -> Vec<Vec<E>> {
    bound
        .iter()
        .map(|b| {
            let g = match b {
                Bound::Mat(m) => grads.get_or_alloc_mut(m).map(|g| g.to_vec()),
                Bound::Vec(v) => grads.get_or_alloc_mut(v).map(|g| g.to_vec()),
            };
            g.unwrap_or_default()
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

    /// Binds every parameter as a tape-free tensor in `E`.
    pub fn bind<E: Real>(&self, dev: &Cpu) -> Vec<Bound<E>>
    where
        Cpu: Storage<E>,
    {
        self.params
            .iter()
            .map(|p| {
                let data: Vec<E> = p.data.iter().map(|&v| E::of(v as f64)).collect();
                match p.shape[..] {
                    [r, c] => Bound::Mat(dev.tensor_from_vec(data, (r, c))),
                    _ => Bound::Vec(dev.tensor_from_vec(data, (p.data.len(),))),
                }
            })
            .collect()
    }

    /// Finds a parameter by name.
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}
