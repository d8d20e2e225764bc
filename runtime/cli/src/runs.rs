//! Many runs at once: `rrae compare` (several model files, or finished run folders,
//! side by side) and `rrae sweep` (one model file over every combination of `--set`
//! values, each run in its own folder, then the compare table with mean ± spread over
//! seeds).

use crate::{checked, train};
use rrae_lang::set::Assignment;
use rrae_report::run::Overrides;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn compare(
    inputs: Vec<PathBuf>,
    out: PathBuf,
    o: Overrides,
    reuse: bool,
    (quiet, device): (bool, rrae_engine::device::DeviceChoice),
) -> Result<(), ExitCode> {
    if inputs.is_empty() {
        errln!("error: give .rrae files or run folders to compare");
        return Err(ExitCode::from(2));
    }
    let device = train::open_device(device, false)?;
    let fail = train::fail::<rrae_report::RunError>;
    // One compare writes into `out` at a time (two mixed their tables and figures).
    let _lock = out_lock(&out)?;
    let mut rows = vec![];
    for input in inputs {
        let dir = if input.is_dir() {
            input
        } else {
            let stem = input
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let dir = out.join(stem);
            if !(reuse && dir.join("metrics.json").is_file()) {
                let (ir, text) = checked(&input, &o.set)?;
                // An interrupted run (Ctrl-C, SIGTERM) left a checkpoint: go on from it.
                let resume = reuse && dir.join(rrae_train::checkpoint::FILE).is_file();
                let how = train::How {
                    quiet,
                    progress: crate::progress::Style::Bar,
                    device: device.clone(),
                    resume,
                    stop_after: None,
                    save_images: false,
                };
                if resume {
                    errln!("== {} (resuming {})", input.display(), dir.display());
                } else {
                    errln!("== {}", input.display());
                }
                train::run(
                    ir,
                    &text,
                    &input.to_string_lossy(),
                    Some(dir.clone()),
                    o.clone(),
                    how,
                )?;
            }
            dir
        };
        rows.push(rrae_report::compare::read_run(&dir).map_err(fail)?);
    }
    let table = rrae_report::compare::write(&rows, &out, None).map_err(fail)?;
    out!("{table}");
    outln!("table, figures and compare.json in {}", out.display());
    Ok(())
}

/// The lock of a compare's or a sweep's output folder (created if need be), so that
/// two commands never write one folder's tables at once; the runs inside lock their
/// own folders.
fn out_lock(out: &Path) -> Result<rrae_report::lock::RunLock, ExitCode> {
    std::fs::create_dir_all(out).map_err(|e| {
        errln!("error: cannot create {}: {e}", out.display());
        ExitCode::from(2)
    })?;
    rrae_report::lock::RunLock::acquire(out).map_err(train::fail)
}

/// One axis of a sweep: a path and its values, from `PATH=V1,V2,…` or `PATH=A..B`.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<String>,
}

impl std::str::FromStr for Axis {
    type Err = String;

    /// Values are split at the commas outside brackets, parentheses and quotes (so
    /// `latent=svd_truncate(k = 2, …),identity` is two values); `A..B` with integers
    /// is every integer from A to B, both included (`train.seed=0..4` is five seeds).
    fn from_str(s: &str) -> Result<Self, String> {
        let a: Assignment = s.parse()?;
        let values = match integer_range(&a.value)? {
            Some(r) => r,
            None => split_top_level(&a.value),
        };
        if values.iter().any(String::is_empty) {
            return Err(format!("`{s}` has an empty value between commas"));
        }
        Ok(Axis {
            path: a.path,
            values,
        })
    }
}

/// The sweep's limit on runs: a typo such as `0..100000` fails here, not after days.
const MAX_RUNS: usize = 10_000;

fn integer_range(v: &str) -> Result<Option<Vec<String>>, String> {
    let Some((a, b)) = v.split_once("..") else {
        return Ok(None);
    };
    let b = b.strip_prefix('=').unwrap_or(b);
    let (Ok(a), Ok(b)) = (a.trim().parse::<i64>(), b.trim().parse::<i64>()) else {
        return Ok(None);
    };
    if b.checked_sub(a)
        .is_none_or(|d| d < 0 || d as u64 >= MAX_RUNS as u64)
    {
        return Err(format!(
            "`{v}`: a range A..B runs from A up to B (both included), with at most {MAX_RUNS} values"
        ));
    }
    Ok(Some((a..=b).map(|i| i.to_string()).collect()))
}

fn split_top_level(v: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quoted) = (vec![], String::new(), 0i32, false);
    for c in v.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' | '[' if !quoted => depth += 1,
            ')' | ']' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

/// Every combination of the axes' values, the last axis varying fastest.
pub fn combinations(axes: &[Axis]) -> Vec<Vec<Assignment>> {
    let mut out = vec![vec![]];
    for axis in axes {
        out = out
            .into_iter()
            .flat_map(|prefix: Vec<Assignment>| {
                axis.values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(Assignment {
                        path: axis.path.clone(),
                        value: v.clone(),
                    });
                    p
                })
            })
            .collect();
    }
    out
}

/// A run's folder name: its assignments as `path=value` joined by `,`, with anything
/// but letters, digits and `._=-` replaced; a name that had to change gets a hash of
/// the exact text, so that two values never share a folder.
pub fn folder_name(set: &[Assignment]) -> String {
    let exact: Vec<String> = set.iter().map(Assignment::to_string).collect();
    let exact = exact.join(",");
    let safe: String = exact
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=-,".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.is_empty() { "run".into() } else { safe };
    if safe == exact && safe.len() <= 120 {
        safe
    } else {
        let short: String = safe.chars().take(100).collect();
        format!("{short}-{:08x}", rrae_artifact::source_hash(&exact) as u32)
    }
}

/// How `rrae sweep` goes.
pub struct Sweep {
    pub file: PathBuf,
    pub axes: Vec<Axis>,
    pub out: Option<PathBuf>,
    pub jobs: usize,
    pub base: Overrides,
    pub device: String,
}

/// What became of one run of a sweep.
enum Outcome {
    Done,
    Failed(String),
}

/// `rrae sweep`: every combination checked first (so a bad value fails before any
/// training), then run as `rrae run` processes, `jobs` at a time, each into
/// `OUT/<its assignments>/` with its output in `OUT/logs/`; finished runs are read,
/// interrupted ones resumed, so the same command continues a sweep. Then the table.
pub fn sweep(s: Sweep) -> Result<(), ExitCode> {
    let combos = combinations(&s.axes);
    if combos.len() > MAX_RUNS {
        errln!(
            "error: the sweep has {} runs (more than {MAX_RUNS}); fewer values, please",
            combos.len()
        );
        return Err(ExitCode::from(2));
    }
    let stem = s
        .file
        .file_stem()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "model".into());
    let out = s
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("sweep-{stem}")));
    let mut plan = vec![];
    for set in &combos {
        let mut all = s.base.set.clone();
        all.extend(set.iter().cloned());
        checked(&s.file, &all)?;
        plan.push((set.clone(), out.join(folder_name(set))));
    }
    let logs = out.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| {
        errln!("error: cannot create {}: {e}", logs.display());
        ExitCode::from(2)
    })?;
    let _lock = out_lock(&out)?;
    outln!(
        "sweep of {}: {} runs into {}, {} at a time",
        s.file.display(),
        plan.len(),
        out.display(),
        s.jobs
    );
    let stop = interrupt_flag();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(
        (0..plan.len())
            .map(|_| None)
            .collect::<Vec<Option<Outcome>>>(),
    );
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("rrae"));
    std::thread::scope(|scope| {
        for _ in 0..s.jobs.max(1) {
            scope.spawn(|| loop {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((set, dir)) = plan.get(i) else {
                    return;
                };
                let outcome = one_run(&exe, &s, set, dir, &logs, (i, plan.len()));
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(outcome);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    let failed: Vec<String> = results
        .iter()
        .zip(&plan)
        .filter_map(|(r, (_, dir))| match r {
            Some(Outcome::Failed(why)) => Some(format!(
                "{} ({why})",
                dir.file_name().unwrap_or_default().to_string_lossy()
            )),
            Some(Outcome::Done) | None => None,
        })
        .collect();
    let unfinished = results.iter().filter(|r| r.is_none()).count();
    let mut rows = vec![];
    for ((set, dir), r) in plan.iter().zip(&results) {
        if let Some(Outcome::Done) = r {
            match rrae_report::compare::read_run(dir) {
                Ok(row) => rows.push((set.clone(), row)),
                Err(e) => errln!("warning: {e}"),
            }
        }
    }
    if !rows.is_empty() {
        let summary = rrae_report::sweep::Summary::of(&rows);
        let table = summary.write(&out).map_err(train::fail)?;
        out!("{table}");
        outln!(
            "{} of {} runs; table (mean ± std over seeds), compare.html and compare.json in {}",
            rows.len(),
            plan.len(),
            out.display()
        );
    }
    if stop.load(std::sync::atomic::Ordering::SeqCst) || unfinished > 0 {
        errln!(
            "sweep interrupted: {unfinished} runs not finished; the same command continues it (finished runs are kept, interrupted ones resume)"
        );
        return Err(ExitCode::from(130));
    }
    if !failed.is_empty() {
        errln!(
            "error: {} of {} runs failed: {} (their output is in {})",
            failed.len(),
            plan.len(),
            failed.join("; "),
            logs.display()
        );
        return Err(ExitCode::from(1));
    }
    Ok(())
}

/// Ctrl-C and SIGTERM reach the `rrae run` children too (one process group): they
/// write checkpoints; the sweep only stops starting new runs.
fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    if let Err(e) =
        ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
    {
        errln!("warning: Ctrl-C will stop the sweep at once: {e}");
    }
    stop
}

/// One run of a sweep, as an `rrae run` process: skipped when its folder holds a
/// finished run of the same command, resumed when it holds a checkpoint.
fn one_run(
    exe: &Path,
    s: &Sweep,
    set: &[Assignment],
    dir: &Path,
    logs: &Path,
    (i, n): (usize, usize),
) -> Outcome {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tag = format!("[{}/{n}] {name}", i + 1);
    let mut overrides = s.base.clone();
    overrides.set.extend(set.iter().cloned());
    let recorded = rrae_report::run::Command::read(dir).ok().flatten();
    let same = recorded.as_ref().is_some_and(|c| c.overrides == overrides);
    if same && dir.join("metrics.json").is_file() {
        outln!("{tag}: finished earlier, read from its folder");
        return Outcome::Done;
    }
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("run").arg(&s.file).arg("--quiet");
    cmd.args(["--device", &s.device]);
    let resume = same && dir.join(rrae_train::checkpoint::FILE).is_file();
    if resume {
        cmd.arg("--resume").arg(dir);
    } else {
        cmd.arg("--out").arg(dir).args(overrides.argv());
    }
    let log_path = logs.join(format!("{name}.txt"));
    let log = match std::fs::File::create(&log_path) {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(format!("cannot create {}: {e}", log_path.display())),
    };
    let (out, err) = match log.try_clone() {
        Ok(e) => (log, e),
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    outln!("{tag}: {}", if resume { "resuming" } else { "training" });
    let t0 = std::time::Instant::now();
    let status = cmd.stdout(out).stderr(err).status();
    let secs = t0.elapsed().as_secs_f64();
    match status {
        Ok(st) if st.success() => match rrae_report::compare::read_run(dir) {
            Ok(r) => {
                outln!(
                    "{tag}: test error {:.2} %, k {} ({secs:.0} s)",
                    r.test_error,
                    r.k.map_or_else(|| "—".into(), |k| k.to_string())
                );
                Outcome::Done
            }
            Err(e) => Outcome::Failed(e.to_string()),
        },
        Ok(st) => {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last = text
                .lines()
                .rev()
                .find(|l| l.starts_with("error"))
                .unwrap_or("");
            outln!("{tag}: failed ({st}) {last}");
            Outcome::Failed(last.to_string())
        }
        Err(e) => {
            outln!("{tag}: could not start {}: {e}", exe.display());
            Outcome::Failed(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_split_at_top_level_commas_and_ranges_include_both_ends() {
        let a: Axis = "train.seed=0..4".parse().unwrap(); // ok: test
        assert_eq!(a.values, ["0", "1", "2", "3", "4"]);
        let a: Axis = "latent=svd_truncate(k = 2, rank_anneal = 0), identity"
            .parse()
            .unwrap(); // ok: test
        assert_eq!(
            a.values,
            ["svd_truncate(k = 2, rank_anneal = 0)", "identity"]
        );
        let a: Axis = "data.name=\"a,b\",c".parse().unwrap(); // ok: test
        assert_eq!(a.values, ["\"a,b\"", "c"]);
        assert!("train.seed=4..0".parse::<Axis>().is_err());
        assert!("train.seed=0..100000".parse::<Axis>().is_err());
        assert!("train.lr=1e-3,".parse::<Axis>().is_err());
    }

    #[test]
    fn combinations_vary_the_last_axis_fastest_and_folders_are_distinct() {
        let axes: Vec<Axis> = ["latent.k=1,2", "train.seed=0..2"]
            .iter()
            .map(|s| s.parse().unwrap()) // ok: test
            .collect();
        let c = combinations(&axes);
        assert_eq!(c.len(), 6);
        assert_eq!(folder_name(&c[0]), "latent.k=1,train.seed=0");
        assert_eq!(folder_name(&c[4]), "latent.k=2,train.seed=1");
        let odd: Vec<Vec<Assignment>> = ["latent=f(a = 1)", "latent=f(a_=_1)"]
            .iter()
            .map(|s| vec![s.parse().unwrap()]) // ok: test
            .collect();
        let (a, b) = (folder_name(&odd[0]), folder_name(&odd[1]));
        assert_ne!(a, b);
        assert!(a.starts_with("latent=f_a_=_1_-"), "{a}");
    }
}
