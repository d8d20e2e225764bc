//! `rrae._rrae`: the native half of the `rrae` Python package (`python/rrae/`): a
//! trained model's artifact (`model.rra`) opened in place.
//!
//! ```python
//! import numpy as np, rrae
//! m = rrae.open("runs/rrae/model.rra")     # read into memory, checksum verified once
//! alpha = m.encode(x)                        # (n, *input) -> (n, k)
//! y = m.decode(alpha)                        # (n, k) -> (n, *input)
//! m.metadata["training"]["k"]
//! ```
//!
//! Every call runs `rrae-artifact`'s interpreter, the one the CLI's `encode`, `decode`
//! and `sample` run, so the numbers are the same bit for bit. Arrays of real numbers
//! (float, int or unsigned dtypes) are taken and converted to float32; complex, bool,
//! object and string arrays are refused (TypeError), as are NaN and infinite values
//! (ValueError, as `rrae encode` refuses them). Results are float32. A call whose
//! result would not fit in the memory available is refused before it allocates
//! (MemoryError with the estimate, as `rrae sample -n` refuses).

use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{AllowTypeChange, IntoPyArray, PyArrayDyn, PyArrayLikeDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyIOError, PyMemoryError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rrae_artifact::{Mapped, Rng, View};

fn value_error(e: rrae_artifact::Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// `x` as an array of real numbers, converted to float32: what numpy would convert
/// from complex, bool, object or string arrays is refused instead of cast silently.
fn real<'py>(
    x: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<PyArrayLikeDyn<'py, f32, AllowTypeChange>> {
    let np = x.py().import("numpy")?;
    let kind: String = np
        .call_method1("asarray", (x,))?
        .getattr("dtype")?
        .getattr("kind")?
        .extract()?;
    if !matches!(kind.as_str(), "f" | "i" | "u") {
        let dtype = np.call_method1("asarray", (x,))?.getattr("dtype")?.str()?;
        return Err(PyTypeError::new_err(format!(
            "{what} takes real numbers (a float, int or unsigned array), not dtype {dtype}"
        )));
    }
    x.extract()
}

/// Refuses a result of `values` float32 values that would not fit in the memory
/// available (Linux's MemAvailable; elsewhere nothing is refused).
fn fits(values: f64, what: &str, lower: &str) -> PyResult<()> {
    let need = values * 4.0;
    let have = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
            line.split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
                .map(|k| k * 1024.0)
        });
    match have {
        Some(have) if need > have => Err(PyMemoryError::new_err(format!(
            "{what} would need {:.1} GiB, more than the {:.1} GiB of memory available: {lower}",
            need / f64::from(1u32 << 30),
            have / f64::from(1u32 << 30)
        ))),
        _ => Ok(()),
    }
}

/// An opened artifact: the file read into memory, validated when opened.
#[pyclass(frozen, module = "rrae")]
struct Model {
    file: Mapped,
    path: String,
}

impl Model {
    /// The archive in place. Its checksum was verified by `open`; this re-checks only
    /// the structure (microseconds, reading no weights).
    fn view(&self) -> PyResult<View<'_>> {
        View::open_unverified(self.file.bytes()).map_err(value_error)
    }

    fn input_shape_of(v: &View) -> Vec<usize> {
        v.artifact()
            .input
            .iter()
            .map(|d| d.to_native() as usize)
            .collect()
    }

    /// `x` as rows of `width` values: `(n, *sample)` or `(n, width)` gives n rows, one
    /// sample (`sample` itself, or `(width,)`) gives one row and `single`.
    fn rows(
        x: &PyArrayLikeDyn<'_, f32, AllowTypeChange>,
        sample: &[usize],
        width: usize,
        what: &str,
    ) -> PyResult<(Vec<f32>, usize, bool)> {
        let shape = x.shape();
        // `[1, 8, 8]` samples may come as `(8, 8)` ones: leading unit axes are optional.
        let squeezed = &sample[sample.iter().take_while(|&&d| d == 1).count()..];
        let one = |s: &[usize]| s == sample || s == squeezed || s == [width];
        let single = one(shape);
        let batch = shape.len() >= 2 && one(&shape[1..]);
        if !single && !batch {
            return Err(PyValueError::new_err(format!(
                "{what} takes one sample of shape {sample:?} (or ({width},)) or a batch (n, {}), not {shape:?}",
                sample
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let data: Vec<f32> = x.as_array().iter().copied().collect();
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(PyValueError::new_err(format!(
                "{what}: value {i} (sample {}) is NaN or infinite",
                i / width.max(1)
            )));
        }
        let n = if single { 1 } else { shape[0] };
        Ok((data, n, single))
    }

    /// `f` on each sample of `x` (one of shape `sample`, or a batch of them), the
    /// outputs of shape `out` stacked as `x`'s samples were.
    fn per_row<'py>(
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        sample: &[usize],
        out: &[usize],
        what: &str,
        f: impl Fn(&[f32]) -> Result<Vec<f32>, rrae_artifact::Error>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let width: usize = sample.iter().product();
        let (data, n, single) = Self::rows(&real(x, what)?, sample, width, what)?;
        fits(
            n as f64 * out.iter().product::<usize>() as f64,
            &format!("{what} of {n} samples"),
            "pass fewer samples at a time",
        )?;
        let outs = data
            .chunks(width.max(1))
            .map(f)
            .collect::<Result<Vec<_>, _>>()
            .map_err(value_error)?;
        Self::stack(py, outs, out, single)
    }

    /// Stacks per-sample outputs into `(n, *shape)`, or `shape` for a single sample.
    fn stack<'py>(
        py: Python<'py>,
        outs: Vec<Vec<f32>>,
        shape: &[usize],
        single: bool,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let mut dims = if single { vec![] } else { vec![outs.len()] };
        dims.extend_from_slice(shape);
        let flat: Vec<f32> = outs.into_iter().flatten().collect();
        let a = ArrayD::from_shape_vec(IxDyn(&dims), flat)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(a.into_pyarray(py))
    }
}

#[pymethods]
impl Model {
    /// One sample's shape, e.g. `[1, 64, 64]`.
    #[getter]
    fn input_shape(&self) -> PyResult<Vec<usize>> {
        Ok(Self::input_shape_of(&self.view()?))
    }

    /// L, the latent length.
    #[getter]
    fn latent_dim(&self) -> PyResult<usize> {
        Ok(self.view()?.latent_dim())
    }

    /// The number of coefficients `encode` gives: k with a basis, L without.
    #[getter]
    fn k(&self) -> PyResult<usize> {
        Ok(self.view()?.k())
    }

    /// Bottleneck coefficients α of samples in original units: `(n, *input)` → `(n, k)`.
    fn encode<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let v = self.view()?;
        let sample = Self::input_shape_of(&v);
        Self::per_row(py, x, &sample, &[v.k()], "encode", |r| v.encode(r))
    }

    /// Samples decoded from coefficients: `(n, k)` → `(n, *input)`.
    fn decode<'py>(
        &self,
        py: Python<'py>,
        alpha: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let v = self.view()?;
        let sample = Self::input_shape_of(&v);
        Self::per_row(py, alpha, &[v.k()], &sample, "decode", |c| v.decode(c))
    }

    /// `decode(encode(x))`, shaped as `x`'s samples.
    fn reconstruct<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let v = self.view()?;
        let sample = Self::input_shape_of(&v);
        Self::per_row(py, x, &sample, &sample, "reconstruct", |r| v.reconstruct(r))
    }

    /// `points` samples between samples `a` and `b`, linear in the coefficients (the
    /// ends excluded): `(points, *input)`.
    fn interpolate<'py>(
        &self,
        py: Python<'py>,
        a: &Bound<'py, PyAny>,
        b: &Bound<'py, PyAny>,
        points: usize,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let v = self.view()?;
        let sample = Self::input_shape_of(&v);
        let width = v.input_len();
        let (a, na, _) = Self::rows(&real(a, "interpolate")?, &sample, width, "interpolate")?;
        let (b, nb, _) = Self::rows(&real(b, "interpolate")?, &sample, width, "interpolate")?;
        if na != 1 || nb != 1 {
            return Err(PyValueError::new_err(
                "interpolate takes two single samples",
            ));
        }
        fits(
            points as f64 * width as f64,
            &format!("interpolate with {points} points"),
            "ask for fewer points",
        )?;
        let outs = v.interpolate(&a, &b, points).map_err(value_error)?;
        Self::stack(py, outs, &sample, false)
    }

    /// `n` samples decoded from N(mean, cov) of the training coefficients, drawn from
    /// `seed` as `rrae sample --seed` draws them: `(n, *input)`.
    #[pyo3(signature = (n, seed = 0))]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let v = self.view()?;
        fits(
            n as f64 * v.input_len() as f64,
            &format!("{n} samples"),
            "ask for fewer (`n`)",
        )?;
        let outs = v.sample(n, &mut Rng::new(seed)).map_err(value_error)?;
        Self::stack(py, outs, &Self::input_shape_of(&v), false)
    }

    /// The number of physical parameters the model was trained over (0: data without
    /// parameters, no reduced-order path).
    #[getter]
    fn parameters(&self) -> PyResult<usize> {
        Ok(self.view()?.parameters())
    }

    /// The reduced-order model: the decoded field at physical parameters `p` (one
    /// value per parameter), from coefficients interpolated over the training
    /// parameters (multilinearly on a grid, by a radial basis function on a scatter).
    fn decode_at<'py>(
        &self,
        py: Python<'py>,
        p: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let v = self.view()?;
        let out = v.decode_at(&p).map_err(value_error)?;
        Self::stack(py, vec![out], &Self::input_shape_of(&v), true)
    }

    /// The basis coefficients at physical parameters `p`: `(k,)`.
    fn coefficients_at<'py>(
        &self,
        py: Python<'py>,
        p: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let v = self.view()?;
        let out = v.coefficients_at(&p).map_err(value_error)?;
        Self::stack(py, vec![out], &[v.k()], true)
    }

    /// What the artifact records: the model, its source, the data normalisation, the
    /// data set and the training summary.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let v = self.view()?;
        let a = v.artifact();
        let d = PyDict::new(py);
        d.set_item("path", &self.path)?;
        d.set_item("name", a.name.as_str())?;
        d.set_item("source", a.source.as_str())?;
        d.set_item("source_hash", format!("{:016x}", a.source_hash.to_native()))?;
        d.set_item("ir", a.ir.as_str())?;
        d.set_item("input_shape", Self::input_shape_of(&v))?;
        d.set_item("latent_dim", v.latent_dim())?;
        d.set_item("k", v.k())?;
        let norm = PyDict::new(py);
        norm.set_item("shift", a.norm.shift.to_native())?;
        norm.set_item("scale", a.norm.scale.to_native())?;
        d.set_item("norm", norm)?;
        let data = PyDict::new(py);
        data.set_item("name", a.dataset.name.as_str())?;
        data.set_item("train_samples", a.dataset.train_samples.to_native())?;
        data.set_item("test_samples", a.dataset.test_samples.to_native())?;
        d.set_item("dataset", data)?;
        let t = &a.training;
        let tr = PyDict::new(py);
        tr.set_item("seed", t.seed.to_native())?;
        tr.set_item("train_steps", t.train_steps.to_native())?;
        tr.set_item("fine_tune_steps", t.fine_tune_steps.to_native())?;
        tr.set_item("k", t.k.as_ref().map(|k| k.to_native()))?;
        tr.set_item("train_error", t.train_error.to_native())?;
        tr.set_item("test_error", t.test_error.to_native())?;
        tr.set_item(
            "interpolation_error",
            t.interpolation_error.as_ref().map(|e| e.to_native()),
        )?;
        tr.set_item("wall_seconds", t.wall_seconds.to_native())?;
        d.set_item("training", tr)?;
        Ok(d)
    }

    fn __repr__(&self) -> PyResult<String> {
        let v = self.view()?;
        Ok(format!(
            "rrae.Model({:?}: {} {:?} -> k = {})",
            self.path,
            v.artifact().name.as_str(),
            Self::input_shape_of(&v),
            v.k()
        ))
    }
}

/// Opens `path` (a `model.rra`, or the run folder holding one, as `rrae inspect`
/// takes): reads it into memory and verifies its checksum and structure once.
///
/// Read, not mapped: a mapped file that another process truncates (`cp new.rra
/// live.rra` under an open notebook) faults the next read with SIGBUS, which kills
/// the interpreter; a copy in memory cannot be changed underneath.
#[pyfunction]
fn open(path: std::path::PathBuf) -> PyResult<Model> {
    let path = if path.is_dir() {
        let inside = path.join("model.rra");
        if !inside.is_file() {
            return Err(PyIOError::new_err(format!(
                "{} is a folder without a model.rra (is it a finished run folder?)",
                path.display()
            )));
        }
        inside
    } else {
        path
    };
    let file =
        Mapped::read(&path).map_err(|e| PyIOError::new_err(format!("{}: {e}", path.display())))?;
    file.view().map_err(value_error)?;
    Ok(Model {
        file,
        path: path.display().to_string(),
    })
}

#[pymodule]
fn _rrae(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_class::<Model>()?;
    Ok(())
}
