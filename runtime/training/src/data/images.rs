//! The `images` data source at run time: every image of the folder decoded, cropped to
//! its central square and resized if asked, as [C, H, W] values in 0–255, and the
//! decoded set cached as a uint8 `.npy` so the next run skips the decoding.
//!
//! The files are those `rrae check` counted (`rrae_lang::images`). A file that does not
//! decode, or (without `size`) differs in size from the sample, stops the load with its
//! path before training. The cache is keyed by each file's name, length and
//! modification time and by the decoding options; it is written atomically, and one
//! that cannot be written only costs the next run the decoding.

use crate::error::{Result, TrainError};
use image::imageops::FilterType;
use image::GenericImageView;
use rayon::prelude::*;
use rrae_engine::files;
use rrae_lang::files::{read_text, TEXT_CAP};
use rrae_lang::images;
use rrae_lang::ir::{DataIr, ImagesIr};
use std::path::{Path, PathBuf};

/// The training and test images in 0–255: split by `test`, `partition` or `split`, and
/// cut to `limit_train` / `limit_test` before decoding, so a small run on a large
/// folder decodes only what it uses.
pub fn load(d: &DataIr, ir: &ImagesIr) -> Result<(Vec<f32>, Vec<f32>, Option<super::Labels>)> {
    let bad = |path: &Path, reason: String| TrainError::data(path.to_path_buf(), reason);
    let files = images::list(&ir.train).map_err(|e| bad(&ir.train, e))?;
    let (mut train, mut test) = match (&ir.test, &ir.partition) {
        (Some(t), _) => (files, images::list(t).map_err(|e| bad(t, e))?),
        (None, Some(p)) => {
            let text = read_text(p, TEXT_CAP).map_err(|e| bad(p, e))?;
            images::partition(&files, &text).map_err(|e| bad(p, e))?
        }
        (None, None) => {
            // The last `split` of the folder is the test set, as for array files.
            let mut files = files;
            let keep = files.len() - DataIr::held_out(files.len(), d.split);
            let test = files.split_off(keep);
            (files, test)
        }
    };
    if let Some(l) = d.limit_train {
        train.truncate(l);
    }
    if let Some(l) = d.limit_test {
        test.truncate(l);
    }
    let labels = match &ir.labels {
        Some((file, column)) => {
            let text = read_text(file, TEXT_CAP).map_err(|e| bad(file, e))?;
            let map = images::labels(&text, column.as_deref()).map_err(|e| bad(file, e))?;
            let of = |set: &[PathBuf]| images::labels_of(set, &map).map_err(|e| bad(file, e));
            Some(super::Labels {
                train: of(&train)?,
                test: of(&test)?,
            })
        }
        None => None,
    };
    let shape = match d.sample.0.as_slice() {
        [c, h, w] => [*c, *h, *w],
        other => {
            return Err(bad(
                &ir.train,
                format!("images are [C, H, W] samples, not {other:?}"),
            ))
        }
    };
    let (train, train_cache) = set(&train, ir, shape)?;
    let (test, test_cache) = set(&test, ir, shape)?;
    // Caches are written once both sets decoded: a bad image leaves no cache behind.
    for (path, bytes) in train_cache.into_iter().chain(test_cache) {
        // Best effort: a read-only place costs only the decoding next time. The
        // checksum goes last: a cache without one is never read.
        let sum = format!("{:016x}\n", xxhash_rust::xxh3::xxh3_64(&bytes));
        let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
            .map_err(|e| TrainError::write(path.clone(), e))
            .and_then(|_| crate::output::write_atomic(&path, &bytes))
            .and_then(|_| crate::output::write_atomic(&checksum_of(&path), sum.as_bytes()));
    }
    Ok((train, test, labels))
}

/// A cache file to write and its bytes.
type CacheWrite = (PathBuf, Vec<u8>);

/// One set of images, from the cache when it holds them, else decoded (with the cache
/// file to write, if caching).
fn set(
    files: &[PathBuf],
    ir: &ImagesIr,
    shape: [usize; 3],
) -> Result<(Vec<f32>, Option<CacheWrite>)> {
    if files.is_empty() {
        return Ok((vec![], None));
    }
    let cache = match &ir.cache {
        Some(dir) => Some(dir.join(format!("images-{}.npy", key(files, ir, shape)?))),
        None => None,
    };
    if let Some(path) = cache.as_ref().filter(|p| p.exists()) {
        // A cache that does not read back as these images is decoded anew.
        if let Some(data) = cached(path, files.len(), shape) {
            return Ok((data, None));
        }
    }
    let decoded: Vec<Vec<u8>> = files
        .par_iter()
        .map(|f| decode(f, ir, shape))
        .collect::<Result<_>>()?;
    let bytes: Vec<u8> = decoded.concat();
    let write = cache.map(|path| {
        let mut npy_shape = vec![files.len()];
        npy_shape.extend(shape);
        (path, files::npy_u8_bytes(&npy_shape, &bytes))
    });
    Ok((bytes.into_iter().map(f32::from).collect(), write))
}

/// The cache file's checksum file: xxh3-64 of the whole `.npy`, written after it.
fn checksum_of(cache: &Path) -> PathBuf {
    cache.with_extension("npy.xxh3")
}

/// The images a cache holds, if it is the file rrae wrote: its checksum matches (a
/// cache changed since, by bit rot or by hand, is decoded anew, not trusted) and it
/// holds `count` samples of `shape`.
fn cached(path: &Path, count: usize, shape: [usize; 3]) -> Option<Vec<f32>> {
    use std::io::Read;
    let mut bytes = vec![];
    rrae_lang::files::open_regular(path)
        .ok()?
        .read_to_end(&mut bytes)
        .ok()?;
    let want = std::fs::read_to_string(checksum_of(path)).ok()?;
    if format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes)) != want.trim() {
        return None;
    }
    let (h, data) = files::read_npy(path).ok()?;
    (h.count == count && h.sample == shape).then_some(data)
}

/// The cache key: xxh3-64 of the options and each file's name, length and mtime.
fn key(files: &[PathBuf], ir: &ImagesIr, shape: [usize; 3]) -> Result<String> {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(b"rrae images v1");
    for v in shape
        .into_iter()
        .chain([ir.size.unwrap_or(0), usize::from(ir.crop)])
    {
        h.update(&(v as u64).to_le_bytes());
    }
    for f in files {
        let meta = std::fs::metadata(f).map_err(|e| TrainError::data(f.clone(), e.to_string()))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        h.update(f.to_string_lossy().as_bytes());
        h.update(&meta.len().to_le_bytes());
        h.update(&mtime.to_le_bytes());
    }
    Ok(format!("{:016x}", h.digest()))
}

/// One image as [C, H, W] bytes: decoded, cropped and resized as `ir` says, or checked
/// to be the sample's size.
fn decode(path: &Path, ir: &ImagesIr, [c, h, w]: [usize; 3]) -> Result<Vec<u8>> {
    let bad = |reason: String| TrainError::data(path.to_path_buf(), reason);
    // A regular file only: a FIFO named `*.png` would block the decoder's open.
    let f = rrae_lang::files::open_regular(path).map_err(bad)?;
    let img = image::ImageReader::new(std::io::BufReader::new(f))
        .with_guessed_format()
        .map_err(|e| bad(e.to_string()))?
        .decode()
        .map_err(|e| bad(format!("cannot decode the image: {e}")))?;
    let (iw, ih) = img.dimensions();
    let img = match ir.size {
        Some(s) => {
            let img = if ir.crop {
                let m = iw.min(ih);
                img.crop_imm((iw - m) / 2, (ih - m) / 2, m, m)
            } else {
                img
            };
            if img.dimensions() == (s as u32, s as u32) {
                img
            } else {
                // Triangle widens with the scale factor when shrinking: antialiased.
                img.resize_exact(s as u32, s as u32, FilterType::Triangle)
            }
        }
        None if (iw as usize, ih as usize) != (w, h) => {
            return Err(bad(format!(
                "this image is {iw}×{ih}, the first one {w}×{h}: images of mixed sizes need \
                 `size = …` (each is then cropped to its central square and resized)"
            )))
        }
        None => img,
    };
    // Interleaved pixels to planes.
    // `rrae check` allows 1 or 3 channels.
    let pixels = if c == 1 {
        img.to_luma8().into_raw()
    } else {
        img.to_rgb8().into_raw()
    };
    let plane = h * w;
    let mut out = vec![0u8; c * plane];
    for (i, px) in pixels.chunks(c).enumerate() {
        for (ch, &v) in px.iter().enumerate() {
            out[ch * plane + i] = v;
        }
    }
    Ok(out)
}
