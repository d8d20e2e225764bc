//! The `data` and `train` blocks checked: each data source probed (headers only, no
//! data loaded) with its values in range and its sets non-empty, and the training
//! settings built, constructors read from what the resolver bound.

use crate::checks::{positive, too_large};
use crate::error::{ErrorKind, Result};
use crate::ir::*;
use crate::probe;
use crate::resolve::Resolved;
use crate::shape::Shape;
use crate::signature::Bound;
use crate::value::Value;

/// The data set the train block trains on, checked; `None` for a model without data.
pub(crate) fn data_ir(r: &Resolved) -> Result<Option<DataIr>> {
    let Some(i) = r.data_ref else { return Ok(None) };
    let d = &r.data[i];
    let b = &d.bound;
    data_values(b)?;
    let normalize = match b.word("normalize") {
        Some("minmax") => Normalize::MinMax,
        Some("none") => Normalize::None,
        _ => Normalize::Standardize,
    };
    let opt = |name: &str| b.get(name).map(|_| b.int(name) as usize);
    let (source, sample, train_count, test_count) = match b.op.as_str() {
        "gaussian_bumps" => bumps_source(b)?,
        "images" => images_source(b, &d.dir)?,
        kind => file_source(b, &d.dir, kind == "idx")?,
    };
    empty_sets(b, train_count, test_count)?;
    let params = params_ir(b, &d.dir, train_count, test_count)?;
    let ir = DataIr {
        name: d.name.clone(),
        source,
        sample,
        train_count,
        test_count,
        limit_train: opt("limit_train"),
        limit_test: opt("limit_test"),
        split: b.get("split").and_then(Value::as_f64),
        normalize,
        params,
    };
    if let Some(p) = &ir.params {
        params_values(b, &ir, p)?;
    }
    Ok(Some(ir))
}

/// The parameter files' values, as the runtime will check them when the data loads
/// ([`crate::params`]): `rrae check` accepts exactly what `rrae run` does.
fn params_values(b: &Bound, d: &DataIr, p: &ParamsIr) -> Result<()> {
    let fail = |name: &str, path: &std::path::Path, reason: String| -> crate::error::Error {
        ErrorKind::DataFile {
            span: b.span(name),
            path: path.display().to_string(),
            reason,
        }
        .into()
    };
    let train = crate::params::read(&p.train).map_err(|e| fail("params_train", &p.train, e))?;
    let test = match &p.test {
        Some(t) => Some(crate::params::read(t).map_err(|e| fail("params_test", t, e))?),
        None => None,
    };
    let (train, test) = crate::params::split(d, p, train, test);
    crate::params::layout(&train, p.dim, &test)
        .map(|_| ())
        .map_err(|(which, reason)| match (which, &p.test) {
            (crate::params::Which::Test, Some(t)) => fail("params_test", t, reason),
            _ => fail("params_train", &p.train, reason),
        })
}

/// A data source's checked form: the source, one sample's shape, and the training and
/// test counts (`None`: split from the training file).
type Source = (DataSource, Shape, usize, Option<usize>);

/// The value checks every data source shares.
fn data_values(b: &Bound) -> Result<()> {
    for (name, min) in [
        ("grid", 2),
        ("train_per_axis", 1),
        ("test", 1),
        ("limit_train", 1),
        ("limit_test", 1),
    ] {
        positive(b, name, min)?;
    }
    if let Some(s) = b.get("split").and_then(Value::as_f64) {
        if !(s > 0.0 && s < 1.0) {
            return Err(ErrorKind::InvalidValue {
                span: b.span("split"),
                what: "`split`".into(),
                value: s.to_string(),
                reason: "a fraction strictly between 0 and 1".into(),
            }
            .into());
        }
    }
    for name in ["sigma", "extent", "centres"] {
        if let Some(v) = b.get(name).and_then(Value::as_f64) {
            if v <= 0.0 {
                return Err(ErrorKind::InvalidValue {
                    span: b.span(name),
                    what: format!("`{name}` of `{}`", b.op),
                    value: v.to_string(),
                    reason: "must be positive".into(),
                }
                .into());
            }
        }
    }
    Ok(())
}

/// `gaussian_bumps(…)`, within the sizes the generator accepts.
fn bumps_source(b: &Bound) -> Result<Source> {
    let grid = b.int("grid") as usize;
    if grid > 4096 {
        return Err(too_large(b.span("grid"), "`grid`"));
    }
    let per = b.int("train_per_axis") as usize;
    let test = b.int("test") as usize;
    if per > 1000 || test > 1_000_000 {
        return Err(too_large(b.span, "the generated data set"));
    }
    let src = DataSource::GaussianBumps {
        grid,
        train_per_axis: per,
        test,
        sigma: b.float("sigma"),
        extent: b.float("extent"),
        centres: b.float("centres"),
        seed: b.int("seed") as u64,
    };
    Ok((src, Shape(vec![1, grid, grid]), per * per, Some(test)))
}

/// `idx(…)` or `npy(…)`: the files' headers, read without loading them, and the test
/// file's samples against the training file's.
fn file_source(b: &Bound, dir: &std::path::Path, idx: bool) -> Result<Source> {
    let path = |name: &str| b.str(name).map(|p| crate::loader::join(dir, p));
    let train = path("train").unwrap_or_default();
    let test = path("test");
    let read = |p: &std::path::Path, name: &str| -> Result<probe::Header> {
        let r = if idx {
            probe::idx_file(p)
        } else {
            probe::npy_file(p)
        };
        r.map_err(|reason| {
            ErrorKind::DataFile {
                span: b.span(name),
                path: p.display().to_string(),
                reason,
            }
            .into()
        })
    };
    let h = read(&train, "train")?;
    if h.sample.is_empty() {
        return Err(ErrorKind::DataFile {
            span: b.span("train"),
            path: train.display().to_string(),
            reason: "a data .npy needs samples along the first axis and at least one more axis"
                .into(),
        }
        .into());
    }
    let test_count = match &test {
        Some(t) => {
            let ht = read(t, "test")?;
            if ht.sample != h.sample {
                return Err(ErrorKind::DataFile {
                    span: b.span("test"),
                    path: t.display().to_string(),
                    reason: format!(
                        "test samples are {:?} but training samples are {:?}",
                        ht.sample, h.sample
                    ),
                }
                .into());
            }
            Some(ht.count)
        }
        None => None,
    };
    let sample = if h.sample.len() == 2 && idx {
        vec![1, h.sample[0], h.sample[1]]
    } else {
        h.sample.clone()
    };
    let src = if idx {
        DataSource::Idx { train, test }
    } else {
        DataSource::Npy { train, test }
    };
    Ok((src, Shape(sample), h.count, test_count))
}

/// The most parameters per sample: interpolation weighs the 2^P corners of a cell.
const MAX_PARAMS: usize = 12;

/// `params_train` / `params_test`: headers read, one row of P values per sample of
/// the matching data file, the same P in both, and `params_test` exactly when there
/// is a `test` file (without one the test rows are the split of `params_train`).
fn params_ir(
    b: &Bound,
    dir: &std::path::Path,
    train_count: usize,
    test_count: Option<usize>,
) -> Result<Option<ParamsIr>> {
    let path = |name: &str| b.str(name).map(|p| crate::loader::join(dir, p));
    let conflict = |name: &str, reason: &str| -> crate::error::Error {
        ErrorKind::OptionConflict {
            span: b.span(name),
            op: b.op.clone(),
            option: name.into(),
            reason: reason.into(),
        }
        .into()
    };
    let (train, test) =
        match (path("params_train"), path("params_test"), test_count) {
            (None, None, _) => return Ok(None),
            (None, Some(_), _) => return Err(conflict(
                "params_test",
                "give `params_train` too: test parameters are interpolated between training ones",
            )),
            (Some(_), None, Some(_)) => {
                return Err(conflict(
                    "params_train",
                    "with a `test` file, give its parameters as `params_test`",
                ))
            }
            (Some(_), Some(_), None) => {
                return Err(conflict(
                    "params_test",
                    "without a `test` file the test parameters are the `split` of `params_train`",
                ))
            }
            (Some(train), test, _) => (train, test),
        };
    let read = |p: &std::path::Path, name: &str, want: usize| -> Result<usize> {
        let fail = |reason: String| -> crate::error::Error {
            ErrorKind::DataFile {
                span: b.span(name),
                path: p.display().to_string(),
                reason,
            }
            .into()
        };
        let h = probe::npy_file(p).map_err(fail)?;
        let dim = match h.sample.as_slice() {
            [] => 1,
            [n] if (1..=MAX_PARAMS).contains(n) => *n,
            other => {
                return Err(fail(format!(
                    "parameters are an [N] or [N, P] array with 1 ≤ P ≤ {MAX_PARAMS}; this one holds samples of {other:?}"
                )))
            }
        };
        if h.count != want {
            return Err(fail(format!(
                "{} parameter rows for the {want} samples of the data file: one row per sample, in its order",
                h.count
            )));
        }
        Ok(dim)
    };
    let dim = read(&train, "params_train", train_count)?;
    if let (Some(t), Some(n)) = (&test, test_count) {
        let test_dim = read(t, "params_test", n)?;
        if test_dim != dim {
            return Err(ErrorKind::DataFile {
                span: b.span("params_test"),
                path: t.display().to_string(),
                reason: format!("{test_dim} parameters per sample, `params_train` has {dim}"),
            }
            .into());
        }
    }
    Ok(Some(ParamsIr { train, test, dim }))
}

/// `images(…)`: the folder listed (only image files), split by `test` or `partition`,
/// and the sample shape from `size` or the first image's header.
fn images_source(b: &Bound, dir: &std::path::Path) -> Result<Source> {
    let path = |name: &str| b.str(name).map(|p| crate::loader::join(dir, p));
    let fail = |name: &str, p: &std::path::Path, reason: String| -> crate::error::Error {
        ErrorKind::DataFile {
            span: b.span(name),
            path: p.display().to_string(),
            reason,
        }
        .into()
    };
    let train = path("train").unwrap_or_default();
    let (test, partition) = (path("test"), path("partition"));
    if test.is_some() && partition.is_some() {
        return Err(ErrorKind::OptionConflict {
            span: b.span("partition"),
            op: b.op.clone(),
            option: "partition".into(),
            reason: "the test images come from `test` or from `partition`, not both".into(),
        }
        .into());
    }
    positive(b, "size", 1)?;
    let size = b.get("size").map(|_| b.int("size") as usize);
    if size.is_some_and(|s| s > 4096) {
        return Err(too_large(b.span("size"), "`size`"));
    }
    let channels = b.int("channels");
    if channels != 1 && channels != 3 {
        return Err(ErrorKind::InvalidValue {
            span: b.span("channels"),
            what: "`channels`".into(),
            value: channels.to_string(),
            reason: "3 (RGB) or 1 (grey)".into(),
        }
        .into());
    }
    let files = crate::images::list(&train).map_err(|e| fail("train", &train, e))?;
    let (train_files, test_files) = match (&test, &partition) {
        (Some(t), _) => (
            files,
            Some(crate::images::list(t).map_err(|e| fail("test", t, e))?),
        ),
        (None, Some(p)) => {
            let text = crate::files::read_text(p, crate::files::TEXT_CAP)
                .map_err(|e| fail("partition", p, e))?;
            let (tr, te) =
                crate::images::partition(&files, &text).map_err(|e| fail("partition", p, e))?;
            (tr, Some(te))
        }
        (None, None) => (files, None),
    };
    let test_count = test_files.as_ref().map(Vec::len);
    let labels = match (path("labels"), b.str("label")) {
        (Some(f), column) => {
            let text = crate::files::read_text(&f, crate::files::TEXT_CAP)
                .map_err(|e| fail("labels", &f, e))?;
            let map = crate::images::labels(&text, column).map_err(|e| fail("labels", &f, e))?;
            for set in std::iter::once(&train_files).chain(test_files.as_ref()) {
                crate::images::labels_of(set, &map).map_err(|e| fail("labels", &f, e))?;
            }
            Some((f, column.map(str::to_string)))
        }
        (None, Some(_)) => {
            return Err(ErrorKind::OptionConflict {
                span: b.span("label"),
                op: b.op.clone(),
                option: "label".into(),
                reason: "`label` names a column of a `labels` attribute file: give `labels` too"
                    .into(),
            }
            .into())
        }
        (None, None) => None,
    };
    let c = channels as usize;
    let sample = match (size, train_files.first()) {
        (Some(s), _) => vec![c, s, s],
        (None, Some(first)) => {
            let (w, h) = crate::images::dims(first).map_err(|e| fail("train", first, e))?;
            vec![c, h, w]
        }
        // No image: the empty-set check names it.
        (None, None) => vec![c, 1, 1],
    };
    let src = DataSource::Images(ImagesIr {
        train,
        test,
        partition,
        size,
        crop: b.word("crop") != Some("none"),
        channels: c,
        cache: b.bool("cache").then(|| dir.join(".rrae-cache")),
        labels,
    });
    Ok((src, Shape(sample), train_files.len(), test_count))
}

/// Refuses a data set the runtime would build with no training or no test samples:
/// a file with no samples, or a `split` of the training file that leaves one side
/// empty (the runtime holds out `round(n · split)` samples, `split` 0.2 by default).
fn empty_sets(b: &Bound, train: usize, test: Option<usize>) -> Result<()> {
    let empty = |name: &str, set, reason: String, help: &str| -> Result<()> {
        Err(ErrorKind::EmptyData {
            span: b.span(name),
            set,
            reason,
            help: help.into(),
        }
        .into())
    };
    let file_help = "a data file holds its samples along the first axis; this one has none";
    if train == 0 {
        return empty(
            "train",
            "training",
            "this file holds 0 samples".into(),
            file_help,
        );
    }
    match test {
        Some(0) => empty(
            "test",
            "test",
            "this file holds 0 samples".into(),
            file_help,
        ),
        Some(_) => Ok(()),
        None => {
            let split = b.get("split").and_then(Value::as_f64);
            let held = DataIr::held_out(train, split);
            let split = split.unwrap_or(DataIr::DEFAULT_SPLIT);
            let at = if b.get("split").is_some() {
                "split"
            } else {
                "train"
            };
            if held == 0 {
                let reason =
                    format!("holding out {split} of {train} samples leaves none to test on");
                empty(at, "test", reason, "raise `split`, or give a `test` file")
            } else if held == train {
                let reason =
                    format!("holding out {split} of {train} samples leaves none to train on");
                empty(
                    at,
                    "training",
                    reason,
                    "lower `split`, or give a `test` file",
                )
            } else {
                Ok(())
            }
        }
    }
}

/// The train block's settings, in range, with the optimiser and schedule the resolver
/// bound.
pub(crate) fn train_ir(b: &Bound) -> Result<TrainIr> {
    for (name, min) in [
        ("steps", 1),
        ("fine_tune_steps", 0),
        ("batch", 1),
        ("seed", 0),
        ("checkpoint_every", 1),
        ("validate_every", 0),
    ] {
        positive(b, name, min)?;
    }
    for name in ["lr", "fine_tune_lr"] {
        if let Some(v) = b.get(name).and_then(Value::as_f64) {
            if !(v > 0.0 && v.is_finite()) {
                return Err(ErrorKind::InvalidValue {
                    span: b.span(name),
                    what: format!("`{name}`"),
                    value: v.to_string(),
                    reason: "a learning rate must be positive".into(),
                }
                .into());
            }
        }
    }
    // The resolver bound each constructor against its catalog row (defaults there).
    let arg = |setting: &str, name: &str| b.call(setting).map_or(0.0, |c| c.float(name));
    let schedule = match b.word("schedule") {
        Some("step") => {
            let every = arg("schedule", "every");
            if every < 1.0 {
                return Err(ErrorKind::InvalidValue {
                    span: b.span("schedule"),
                    what: "`every` of `step`".into(),
                    value: every.to_string(),
                    reason: "must be at least 1".into(),
                }
                .into());
            }
            Schedule::Step {
                every: every as usize,
                gamma: arg("schedule", "gamma"),
            }
        }
        Some("cosine") => Schedule::Cosine {
            min_lr: arg("schedule", "min_lr"),
        },
        _ => Schedule::Constant,
    };
    let optimizer = match b.word("optimizer") {
        Some("adabelief") => Optimizer::AdaBelief {
            beta1: arg("optimizer", "beta1"),
            beta2: arg("optimizer", "beta2"),
            eps: arg("optimizer", "eps"),
            eps_root: arg("optimizer", "eps_root"),
        },
        Some("sgd") => Optimizer::Sgd {
            momentum: arg("optimizer", "momentum"),
        },
        _ => Optimizer::Adam {
            beta1: arg("optimizer", "beta1"),
            beta2: arg("optimizer", "beta2"),
            eps: arg("optimizer", "eps"),
        },
    };
    let lr = b.float("lr");
    Ok(TrainIr {
        steps: b.int("steps") as usize,
        fine_tune_steps: b.int("fine_tune_steps") as usize,
        batch: b.int("batch") as usize,
        lr,
        fine_tune_lr: b.get("fine_tune_lr").and_then(Value::as_f64).unwrap_or(lr),
        schedule,
        optimizer,
        loss: if b.word("loss") == Some("mse") {
            Loss::Mse
        } else {
            Loss::RelativeL2
        },
        seed: b.int("seed") as u64,
        checkpoint_every: b
            .get("checkpoint_every")
            .map(|_| b.int("checkpoint_every") as usize),
        validate_every: b.int("validate_every") as usize,
    })
}
