//! The checked `data` declaration: its source, sample shape, counts and normalisation.

use crate::shape::Shape;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalize {
    Standardize,
    MinMax,
    None,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    GaussianBumps {
        grid: usize,
        train_per_axis: usize,
        test: usize,
        sigma: f64,
        extent: f64,
        centres: f64,
        seed: u64,
    },
    Idx {
        train: PathBuf,
        test: Option<PathBuf>,
    },
    Npy {
        train: PathBuf,
        test: Option<PathBuf>,
    },
    Images(ImagesIr),
}

/// A folder of PNG/JPEG images, decoded to [channels, H, W] values in 0–255.
#[derive(Clone, Debug, PartialEq)]
pub struct ImagesIr {
    pub train: PathBuf,
    pub test: Option<PathBuf>,
    /// A CelebA-style partition file splitting `train` (split 0) and test (split 2).
    pub partition: Option<PathBuf>,
    /// Every image cropped (if `crop`) and resized to size × size; `None`: all images
    /// must have the sample's size.
    pub size: Option<usize>,
    /// Take the central square before resizing.
    pub crop: bool,
    /// 3 (RGB) or 1 (grey).
    pub channels: usize,
    /// The folder for decoded-image caches; `None`: decode every run.
    pub cache: Option<PathBuf>,
    /// A labels file and, for a CelebA attribute table, the attribute used.
    pub labels: Option<(PathBuf, Option<String>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataIr {
    pub name: String,
    pub source: DataSource,
    /// One sample's shape as the model sees it.
    pub sample: Shape,
    pub train_count: usize,
    /// `None` when the test set is a `split` of the training file.
    pub test_count: Option<usize>,
    pub limit_train: Option<usize>,
    pub limit_test: Option<usize>,
    pub split: Option<f64>,
    pub normalize: Normalize,
    /// The physical parameters of each sample (`params_train`, `params_test`), for
    /// interpolating latents in parameter space.
    pub params: Option<ParamsIr>,
}

/// Parameter files beside a data file: one row of `dim` values per sample, in the
/// data file's order. Without `test` the test rows are the same `split` of `train`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamsIr {
    pub train: PathBuf,
    pub test: Option<PathBuf>,
    /// Parameters per sample, P.
    pub dim: usize,
}

impl DataIr {
    /// The fraction of a training file held out as the test set when there is no test
    /// file.
    pub const DEFAULT_SPLIT: f64 = 0.2;

    /// How many of `n` samples a `split` holds out: `round(n · split)`, at most `n`.
    pub fn held_out(n: usize, split: Option<f64>) -> usize {
        ((n as f64 * split.unwrap_or(Self::DEFAULT_SPLIT)).round() as usize).min(n)
    }

    /// The training samples the runtime will have: the file's, less a held-out split,
    /// within `limit_train`.
    pub fn train_samples(&self) -> usize {
        let n = match self.test_count {
            Some(_) => self.train_count,
            None => self.train_count - Self::held_out(self.train_count, self.split),
        };
        self.limit_train.map_or(n, |l| l.min(n))
    }
}
