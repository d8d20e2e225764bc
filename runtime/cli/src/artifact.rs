//! `rrae inspect`, `rrae sample`, `rrae encode`, `rrae decode`: the artifact of a run,
//! through the `rrae-artifact` crate (the same code other programs use).

use rrae_artifact::{ArchivedLatent, ArchivedLayer, Mapped, Rng, View};
use rrae_engine::files::{npy_bytes, npy_f64_bytes, read_idx, read_npy};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn fail(msg: String) -> ExitCode {
    errln!("error: {msg}");
    ExitCode::from(1)
}

/// The artifact file `path` names: a run folder means its `model.rra`.
fn artifact_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(rrae_train::checkpoint::ARTIFACT)
    } else {
        path.to_path_buf()
    }
}

fn open(path: &Path) -> Result<Mapped, ExitCode> {
    Mapped::open(artifact_file(path)).map_err(|e| fail(e.to_string()))
}

/// Refuses an output file that is one of the command's inputs: `rrae sample ART -o ART`
/// would replace the artifact with a picture.
fn distinct(out: &Path, inputs: &[&Path]) -> Result<(), ExitCode> {
    let Ok(o) = out.canonicalize() else {
        return Ok(()); // a new file is no input
    };
    for input in inputs {
        if input.canonicalize().is_ok_and(|i| i == o) {
            return Err(fail(format!(
                "the output {} is an input of this command; writing it would destroy it\n  help: give `-o` another file",
                out.display()
            )));
        }
    }
    Ok(())
}

fn view(m: &Mapped) -> Result<View<'_>, ExitCode> {
    m.view().map_err(|e| fail(e.to_string()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ExitCode> {
    rrae_train::output::write_atomic(path, bytes).map_err(|e| fail(e.to_string()))
}

pub fn inspect(path: PathBuf) -> Result<(), ExitCode> {
    let m = open(&path)?;
    let t0 = Instant::now();
    let v = view(&m)?;
    let opened = t0.elapsed();
    let a = v.artifact();
    let shape: Vec<u32> = a.input.iter().map(|d| d.to_native()).collect();
    let params: usize = a.tensors.iter().map(|t| t.data.len()).sum();
    let count = |ls: &[ArchivedLayer]| ls.len();
    outln!(
        "artifact   {} (format {}, {} bytes, validated in {:.2} ms)",
        path.display(),
        rrae_artifact::VERSION,
        m.bytes().len(),
        opened.as_secs_f64() * 1e3
    );
    outln!("model      {}", a.name);
    outln!("source     FNV-1a {:016x}", a.source_hash.to_native());
    outln!("input      {shape:?} ({} values)", v.input_len());
    outln!(
        "graph      encoder {} layers → latent L = {} → {} → decoder {} layers; {} parameters",
        count(&a.encoder),
        v.latent_dim(),
        match &a.latent {
            ArchivedLatent::Identity => "identity".to_string(),
            ArchivedLatent::Project { .. } => format!("project(U_f) with k = {}", v.k()),
        },
        count(&a.decoder),
        params
    );
    outln!(
        "norm       x_model = (x − {}) / {}",
        a.norm.shift.to_native(),
        a.norm.scale.to_native()
    );
    outln!(
        "dataset    {}: {} train, {} test",
        a.dataset.name,
        a.dataset.train_samples.to_native(),
        a.dataset.test_samples.to_native()
    );
    let tr = &a.training;
    let wall = tr.wall_seconds.to_native();
    outln!(
        "training   seed {}, {} + {} fine-tune steps, k = {}, {}",
        tr.seed.to_native(),
        tr.train_steps.to_native(),
        tr.fine_tune_steps.to_native(),
        tr.k.as_ref()
            .map(|k| k.to_native().to_string())
            .unwrap_or_else(|| "—".into()),
        if wall.is_finite() {
            format!("{wall:.1} s")
        } else {
            "wall time not recorded (written by `rrae eval`)".into()
        }
    );
    outln!(
        "errors     train {:.2} %, test {:.2} %{}",
        tr.train_error.to_native(),
        tr.test_error.to_native(),
        tr.interpolation_error
            .as_ref()
            .map(|e| format!(", interpolation {:.2} %", e.to_native()))
            .unwrap_or_default()
    );
    Ok(())
}

/// Writes samples as a PNG grid (grey or RGB images, 1-D strips) or an `.npy` array of
/// shape [N, *input] (as the Python extension returns them).
fn save_samples(v: &View, rows: &[Vec<f32>], out: &Path, cols: usize) -> Result<(), ExitCode> {
    let dims: Vec<usize> = v
        .artifact()
        .input
        .iter()
        .map(|d| d.to_native() as usize)
        .collect();
    let flat: Vec<f64> = rows.iter().flatten().map(|&x| x as f64).collect();
    if out.extension().is_some_and(|e| e == "png") {
        let (c, h, w) = match dims[..] {
            [c @ (1 | 3), h, w] => (c, h, w),
            [1, n] | [n] => (1, 1, n),
            _ => {
                return Err(fail(format!(
                    "samples of shape {dims:?} are neither grey nor RGB images: write .npy instead"
                )))
            }
        };
        rrae_report::plot::image_grid(&flat, c, h, w, cols)
            .save(out)
            .map_err(|e| fail(e.to_string()))
    } else {
        let mut shape = vec![rows.len()];
        shape.extend(&dims);
        write(out, &npy_f64_bytes(&shape, &flat))
    }
}

pub fn sample(path: PathBuf, n: usize, out: PathBuf, seed: u64) -> Result<(), ExitCode> {
    distinct(&out, &[&artifact_file(&path)])?;
    let m = open(&path)?;
    let v = view(&m)?;
    fits_samples(n, v.input_len())?;
    let rows = v
        .sample(n, &mut Rng::new(seed))
        .map_err(|e| fail(e.to_string()))?;
    save_samples(&v, &rows, &out, 8)?;
    outln!("{n} samples → {}", out.display());
    Ok(())
}

/// Refuses `n` samples that cannot fit in memory: each is held as f32 rows, then as the
/// f64 `.npy` or the picture being written.
fn fits_samples(n: usize, len: usize) -> Result<(), ExitCode> {
    use rrae_engine::device::Device;
    use rrae_lang::memory::human;
    let need = n as f64 * len as f64 * (4.0 + 8.0);
    match rrae_engine::device::Cpu.memory_available() {
        Some(have) if need > have as f64 => Err(fail(
            rrae_report::RunError::TooBig {
                what: format!("{n} samples"),
                need: human(need),
                available: human(have as f64),
                lower: "lower `-n`".into(),
            }
            .to_string(),
        )),
        _ => Ok(()),
    }
}

/// Rows of an `.npy` or IDX(.gz) file, one sample each.
fn read_rows(path: &Path, width: usize) -> Result<Vec<Vec<f32>>, ExitCode> {
    let name = path.to_string_lossy();
    let (h, data) = if name.ends_with(".npy") {
        read_npy(path)
    } else {
        read_idx(path)
    }
    .map_err(|e| fail(e.to_string()))?;
    let per: usize = h.sample.iter().product();
    if per != width {
        return Err(fail(format!(
            "{}: samples of {per} values ({:?}); the model takes {width}",
            path.display(),
            h.sample
        )));
    }
    Ok(data.chunks(width).map(|c| c.to_vec()).collect())
}

pub fn encode(path: PathBuf, input: PathBuf, out: PathBuf) -> Result<(), ExitCode> {
    distinct(&out, &[&artifact_file(&path), &input])?;
    let m = open(&path)?;
    let v = view(&m)?;
    let rows = read_rows(&input, v.input_len())?;
    let mut flat = Vec::with_capacity(rows.len() * v.k());
    for r in &rows {
        flat.extend(
            v.encode(r)
                .map_err(|e| fail(e.to_string()))?
                .into_iter()
                .map(|x| x as f64),
        );
    }
    write(&out, &npy_bytes(rows.len(), v.k(), &flat))?;
    outln!(
        "{} samples → {} × {} coefficients in {}",
        rows.len(),
        rows.len(),
        v.k(),
        out.display()
    );
    Ok(())
}

pub fn decode(path: PathBuf, input: PathBuf, out: PathBuf) -> Result<(), ExitCode> {
    distinct(&out, &[&artifact_file(&path), &input])?;
    let m = open(&path)?;
    let v = view(&m)?;
    let coeffs = read_rows(&input, v.k())?;
    let rows = coeffs
        .iter()
        .map(|c| v.decode(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.to_string()))?;
    save_samples(&v, &rows, &out, 8)?;
    outln!("{} coefficient rows → {}", rows.len(), out.display());
    Ok(())
}
