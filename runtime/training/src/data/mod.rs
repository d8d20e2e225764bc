//! Datasets: the built-in Gaussian bumps, IDX and `.npy` files; normalisation with
//! the training statistics; seeded shuffling into batches.

pub mod bumps;
pub mod images;
pub mod params;
pub mod replay;
pub mod scattered;

use crate::error::{Result, TrainError};
use bumps::Bumps;
use params::Params;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rrae_engine::files;
use rrae_lang::ir::{DataIr, DataSource, Normalize};

/// `x_model = (x − shift) / scale`, with scalars computed on the training set.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Norm {
    pub shift: f64,
    pub scale: f64,
}

impl Norm {
    pub fn of(kind: Normalize, train: &[f32]) -> Norm {
        let n = train.len().max(1) as f64;
        match kind {
            Normalize::Standardize => {
                let mean = train.iter().map(|&v| v as f64).sum::<f64>() / n;
                let var = train
                    .iter()
                    .map(|&v| (v as f64 - mean).powi(2))
                    .sum::<f64>()
                    / n;
                Norm {
                    shift: mean,
                    scale: if var > 0.0 { var.sqrt() } else { 1.0 },
                }
            }
            Normalize::MinMax => {
                let lo = train.iter().cloned().fold(f32::INFINITY, f32::min) as f64;
                let hi = train.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
                Norm {
                    shift: lo,
                    scale: if hi > lo { hi - lo } else { 1.0 },
                }
            }
            Normalize::None => Norm {
                shift: 0.0,
                scale: 1.0,
            },
        }
    }
    pub fn apply(&self, x: &mut [f32]) {
        for v in x {
            *v = ((*v as f64 - self.shift) / self.scale) as f32;
        }
    }
    pub fn invert(&self, x: f64) -> f64 {
        x * self.scale + self.shift
    }
}

/// A loaded dataset, normalised; samples are rows of `dim` values.
pub struct Dataset {
    pub name: String,
    pub sample: Vec<usize>,
    pub dim: usize,
    pub train: Vec<f32>,
    pub test: Vec<f32>,
    pub norm: Norm,
    /// Present for `gaussian_bumps`: centres and renderer, for the bump metrics.
    pub bumps: Option<Bumps>,
    /// Class labels, when an IDX image file has its labels file beside it
    /// (`…-images-idx3-ubyte…` → `…-labels-idx1-ubyte…`): the FID-style scores use them.
    pub labels: Option<Labels>,
    /// Each sample's physical parameters: from `params_train`/`params_test`, or the
    /// bump centres; the parametric test error interpolates latents over them.
    pub params: Option<Params>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Labels {
    pub train: Vec<u8>,
    pub test: Vec<u8>,
}

/// The labels file beside an IDX image file, if there is one.
/// The labels beside an IDX image file (`…images-idx3…` → `…labels-idx1…`), if there
/// is such a file; one that exists but does not hold one label per image is an error,
/// not a silently dropped FID.
fn labels_of(images: &std::path::Path) -> Result<Option<Vec<u8>>> {
    let Some(name) = images.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    if !name.contains("images-idx3") {
        return Ok(None);
    }
    let path = images.with_file_name(name.replace("images-idx3", "labels-idx1"));
    if !path.exists() {
        return Ok(None);
    }
    let (h, data) = files::read_idx(&path)?;
    let bad = |reason: String| TrainError::data(path.clone(), reason);
    if !h.sample.is_empty() || data.iter().any(|&v| !(0.0..256.0).contains(&v)) {
        return Err(bad(format!(
            "a label file holds one byte per image; this one holds samples of {:?}",
            h.sample
        )));
    }
    let images_count = files::read_idx_header(images)?.count;
    if data.len() != images_count {
        return Err(bad(format!(
            "{} labels for the {images_count} images of {}: the FID needs one label per image",
            data.len(),
            images.display()
        )));
    }
    Ok(Some(data.iter().map(|&v| v as u8).collect()))
}

impl Dataset {
    pub fn n_train(&self) -> usize {
        self.train.len() / self.dim
    }
    pub fn n_test(&self) -> usize {
        self.test.len() / self.dim
    }
    /// xxh3-64 of every training and test value as loaded (after normalisation), in
    /// hex: checkpoints record it, so a resumed run notices that its data changed.
    pub fn fingerprint(&self) -> String {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let mut bytes = Vec::with_capacity(4 << 12);
        for part in [&self.train, &self.test] {
            h.update(&(part.len() as u64).to_le_bytes());
            for chunk in part.chunks(1 << 12) {
                bytes.clear();
                bytes.extend(chunk.iter().flat_map(|v| v.to_le_bytes()));
                h.update(&bytes);
            }
        }
        format!("{:016x}", h.digest())
    }

    /// Loads what the IR describes. Everything the checker verified (headers,
    /// shapes) is re-verified against the actual bytes.
    pub fn load(d: &DataIr) -> Result<Dataset> {
        let dim = d.sample.numel();
        let mut labels = None;
        let mut params = None;
        let (mut train, mut test, bumps) = match &d.source {
            DataSource::GaussianBumps {
                grid,
                train_per_axis,
                test,
                sigma,
                extent,
                centres,
                seed,
            } => {
                let b = Bumps::new(
                    *grid,
                    *train_per_axis,
                    *test,
                    *sigma,
                    *extent,
                    *centres,
                    *seed,
                );
                (
                    b.render_all(&b.train_centres),
                    b.render_all(&b.test_centres),
                    Some(b),
                )
            }
            DataSource::Images(ir) => {
                let (tr, te, l) = images::load(d, ir)?;
                labels = l;
                (tr, te, None)
            }
            DataSource::Idx { train, test } | DataSource::Npy { train, test } => {
                let idx = matches!(d.source, DataSource::Idx { .. });
                let (tr, te, l) = read_files(d, train, test.as_deref(), idx)?;
                labels = l;
                params = read_params(d, tr.len() / dim, te.len() / dim)?;
                (tr, te, None)
            }
        };
        if let Some(l) = d.limit_train {
            train.truncate(l * dim);
            if let Some(lb) = labels.as_mut() {
                lb.train.truncate(l);
            }
        }
        if let Some(l) = d.limit_test {
            test.truncate(l * dim);
            if let Some(lb) = labels.as_mut() {
                lb.test.truncate(l);
            }
        }
        // `rrae check` refused empty sets (E042); a file changed since then is caught
        // here, before a batch of nothing reaches the loader.
        for (set, rows) in [("training", &train), ("test", &test)] {
            if rows.is_empty() {
                let path = match &d.source {
                    DataSource::Idx { train, .. } | DataSource::Npy { train, .. } => train.clone(),
                    DataSource::Images(ir) => ir.train.clone(),
                    DataSource::GaussianBumps { .. } => d.name.clone().into(),
                };
                return Err(TrainError::data(
                    path,
                    format!(
                        "the {set} set has no samples (has the file changed since `rrae check`?)"
                    ),
                ));
            }
        }
        let norm = Norm::of(d.normalize, &train);
        norm.apply(&mut train);
        norm.apply(&mut test);
        let bumps = bumps.map(|mut b| {
            b.train_centres.truncate(train.len() / dim);
            b.test_centres.truncate(test.len() / dim);
            b
        });
        let params = match (params, &bumps, &d.params) {
            (Some((p, tr, te)), _, Some(files)) => Some(
                Params::new(p, tr, te)
                    .map_err(|reason| TrainError::data(files.train.clone(), reason))?,
            ),
            // The bump centres are the bumps' parameters; a `limit_train` that breaks
            // their grid only drops the parametric error.
            (_, Some(b), _) => {
                let flat = |c: &[[f64; 2]]| c.iter().flatten().copied().collect::<Vec<_>>();
                Params::new(2, flat(&b.train_centres), flat(&b.test_centres)).ok()
            }
            _ => None,
        };
        Ok(Dataset {
            name: d.name.clone(),
            sample: d.sample.0.clone(),
            dim,
            train,
            test,
            norm,
            bumps,
            labels,
            params,
        })
    }
}

/// Parameters per sample, the training rows and the test rows.
type ParamRows = (usize, Vec<f64>, Vec<f64>);

/// The training and test parameters of a file source (`dim`, train rows, test rows):
/// `n_train` and `n_test` samples' worth, split and cut by the limits as the samples are.
fn read_params(d: &DataIr, n_train: usize, n_test: usize) -> Result<Option<ParamRows>> {
    let Some(p) = &d.params else { return Ok(None) };
    // The values as `rrae check` read them (`rrae_lang::params`), so both judge the
    // same numbers.
    let read = |path: &std::path::Path, rows: usize| -> Result<Vec<f64>> {
        let v =
            rrae_lang::params::read(path).map_err(|e| TrainError::data(path.to_path_buf(), e))?;
        if v.len() != rows * p.dim {
            return Err(TrainError::data(
                path.to_path_buf(),
                format!(
                    "{} parameter values for {rows} samples of {} each (has the file \
                     changed since `rrae check`?)",
                    v.len(),
                    p.dim
                ),
            ));
        }
        Ok(v)
    };
    let (train, test) = match &p.test {
        Some(t) => (read(&p.train, n_train)?, Some(read(t, n_test)?)),
        None => (read(&p.train, n_train + n_test)?, None),
    };
    // The split and the limits as the data's.
    let (train, test) = rrae_lang::params::split(d, p, train, test);
    Ok(Some((p.dim, train, test)))
}

/// The training and test rows of an `idx` or `npy` source (the test set split off the
/// training file's tail without a test file), and the IDX labels beside them, if any.
fn read_files(
    d: &DataIr,
    train: &std::path::Path,
    test: Option<&std::path::Path>,
    idx: bool,
) -> Result<(Vec<f32>, Vec<f32>, Option<Labels>)> {
    let dim = d.sample.numel();
    let read = |p: &std::path::Path| {
        let (h, data) = if idx {
            files::read_idx(p)?
        } else {
            files::read_npy(p)?
        };
        if h.sample.iter().product::<usize>() != dim {
            return Err(TrainError::data(
                p.to_path_buf(),
                format!(
                    "samples are {:?}, the model expects {:?}",
                    h.sample, d.sample.0
                ),
            ));
        }
        Ok(data)
    };
    let mut tr = read(train)?;
    let mut tl = if idx { labels_of(train)? } else { None };
    let (te, tel) = match test {
        Some(t) => (read(t)?, if idx { labels_of(t)? } else { None }),
        None => {
            // `split` of the training file goes to the test set (its tail).
            let n = tr.len() / dim;
            let held = DataIr::held_out(n, d.split);
            let tel = tl.as_mut().map(|l| l.split_off(n - held));
            (tr.split_off((n - held) * dim), tel)
        }
    };
    let labels = match (tl, tel) {
        (Some(a), Some(b)) if a.len() * dim == tr.len() && b.len() * dim == te.len() => {
            Some(Labels { train: a, test: b })
        }
        _ => None,
    };
    Ok((tr, te, labels))
}

/// Seeded epochs of shuffled batches; the last short batch of an epoch is dropped
/// (so every batch has the configured size, as in the authors' loop).
pub struct Batches {
    n: usize,
    batch: usize,
    order: Vec<usize>,
    pos: usize,
    rng: rand::rngs::StdRng,
}

/// Tags the batch streams' seeds so that no batch order shares its generator with a
/// parameter initialisation (`Init::new`) of any seed.
const BATCH_STREAM: u64 = 0x6261_7463_6865_7321;

/// SplitMix64's finaliser: a bijection on u64 whose outputs for nearby inputs are
/// unrelated, so `stream_seed(s)` never equals a small run seed in practice.
fn stream_seed(seed: u64) -> u64 {
    let mut z = (seed ^ BATCH_STREAM).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Batches {
    /// Seeds its generator with a hash of `seed`, not `seed` itself: with the same
    /// seed as the initialisation, the shuffle consumed the very ChaCha words that drew
    /// the encoder's first weights (every second index of the first epoch was a
    /// monotone function of one weight), coupling the batch order to the initial
    /// network. PyTorch draws the two from separate generators; decoupling them did
    /// not change how often the bumps recipe folds (docs/results.md), but two streams
    /// that share words are a defect regardless.
    pub fn new(n: usize, batch: usize, seed: u64) -> Batches {
        let batch = batch.min(n).max(1);
        let mut b = Batches {
            n,
            batch,
            order: (0..n).collect(),
            pos: n,
            rng: rand::rngs::StdRng::seed_from_u64(stream_seed(seed)),
        };
        b.reshuffle();
        b
    }
    fn reshuffle(&mut self) {
        self.order = (0..self.n).collect();
        // `RRAE_SEQUENTIAL_BATCHES=1` keeps the file order, so another framework can
        // replay the exact batches (bench/torch_sequential.py).
        if std::env::var_os("RRAE_SEQUENTIAL_BATCHES").is_none() {
            self.order.shuffle(&mut self.rng);
        }
        self.pos = 0;
    }
    /// The next batch's sample indices.
    pub fn next_batch(&mut self) -> Vec<usize> {
        if self.pos + self.batch > self.n {
            self.reshuffle();
        }
        let b = self.order[self.pos..self.pos + self.batch].to_vec();
        self.pos += self.batch;
        b
    }
}

/// Gathers rows `idx` of a row-major `n × dim` matrix.
pub fn gather(data: &[f32], dim: usize, idx: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(idx.len() * dim);
    for &i in idx {
        out.extend_from_slice(&data[i * dim..(i + 1) * dim]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_each_epoch_once_and_are_seeded() {
        let mut a = Batches::new(10, 3, 7);
        let mut seen: Vec<usize> = (0..3).flat_map(|_| a.next_batch()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 9);
        let mut b = Batches::new(10, 3, 7);
        let mut c = Batches::new(10, 3, 8);
        let (x, y, z) = (
            b.next_batch(),
            Batches::new(10, 3, 7).next_batch(),
            c.next_batch(),
        );
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    /// The coupling this guards against: with `StdRng::seed_from_u64(seed)` for both,
    /// the first epoch's order was a function of the initial weights of the same seed.
    #[test]
    fn batch_order_does_not_reuse_the_initialisation_generator() {
        for seed in 0..8 {
            let mut own = rand::rngs::StdRng::seed_from_u64(seed);
            let mut alike: Vec<usize> = (0..400).collect();
            alike.shuffle(&mut own);
            let order = Batches::new(400, 400, seed).next_batch();
            assert_ne!(order, alike, "seed {seed}");
            assert_ne!(stream_seed(seed), seed);
        }
        assert_ne!(
            Batches::new(400, 64, 0).next_batch(),
            Batches::new(400, 64, 1).next_batch()
        );
    }

    #[test]
    fn standardising_uses_training_statistics() {
        let n = Norm::of(Normalize::Standardize, &[1.0, 3.0]);
        assert_eq!((n.shift, n.scale), (2.0, 1.0));
        let mut x = [5.0f32];
        n.apply(&mut x);
        assert_eq!(x[0], 3.0);
        assert_eq!(n.invert(3.0), 5.0);
    }
}
