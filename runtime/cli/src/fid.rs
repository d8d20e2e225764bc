//! `rrae fid REAL GENERATED`: the standard FID (Inception-v3 pool features) between two
//! image sets given as `.npy` or IDX arrays of [N, C, H, W] or [N, H, W] values, for
//! any images, not only a run's. Needs a build with the `inception` feature
//! (docs/fid.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn fail(msg: String) -> ExitCode {
    errln!("error: {msg}");
    ExitCode::from(1)
}

/// The images of a file and their [C, H, W].
#[cfg_attr(not(feature = "inception"), allow(dead_code))]
fn read(path: &Path) -> Result<(Vec<f64>, [usize; 3]), ExitCode> {
    let name = path.to_string_lossy();
    let (h, data) = if name.ends_with(".npy") {
        rrae_engine::files::read_npy(path)
    } else {
        rrae_engine::files::read_idx(path)
    }
    .map_err(|e| fail(e.to_string()))?;
    let shape = match h.sample[..] {
        [c @ (1 | 3), h, w] => [c, h, w],
        [h, w] => [1, h, w],
        ref other => {
            return Err(fail(format!(
                "{}: samples of shape {other:?} are not grey or RGB images ([N, C, H, W] with C = 1 or 3, or [N, H, W])",
                path.display()
            )))
        }
    };
    Ok((data.into_iter().map(f64::from).collect(), shape))
}

#[cfg(feature = "inception")]
pub fn fid(
    real: PathBuf,
    generated: PathBuf,
    range: (f64, f64),
    model: Option<PathBuf>,
) -> Result<(), ExitCode> {
    use rrae_report::inception::{self, Images, Inception};
    let Some(model) = model.or_else(inception::model_path) else {
        return Err(fail(format!(
            "no Inception network: give `--model FILE` or set {} (docs/fid.md)",
            inception::MODEL_VAR
        )));
    };
    let (a, sa) = read(&real)?;
    let (b, sb) = read(&generated)?;
    let net = Inception::load(&model).map_err(|e| fail(e.to_string()))?;
    let (ia, ib) = (Images::new(&a, sa, range), Images::new(&b, sb, range));
    if ia.count() < 2 || ib.count() < 2 {
        return Err(fail(
            "the FID compares covariances: give at least 2 images on each side".into(),
        ));
    }
    let f = inception::fid(&net, &ia, &ib).map_err(|e| fail(e.to_string()))?;
    outln!(
        "FID {f:.6} ({} real, {} generated images; Inception-v3 pool features, {})",
        ia.count(),
        ib.count(),
        model.display()
    );
    Ok(())
}

#[cfg(not(feature = "inception"))]
pub fn fid(_: PathBuf, _: PathBuf, _: (f64, f64), _: Option<PathBuf>) -> Result<(), ExitCode> {
    rrae_report::inception::require().map_err(|e| fail(e.to_string()))
}
