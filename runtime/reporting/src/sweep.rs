//! `rrae sweep`'s table: the runs of a sweep grouped by their settings other than
//! seeds, each measure as the mean ± the sample standard deviation over the group's
//! seeds; written beside the per-run compare table (`compare.md`, `compare.html`).

use crate::compare::Row;
use crate::error::{Result, RunError};
use rrae_lang::set::Assignment;
use rrae_train::output::write_atomic;
use std::path::Path;

/// A seed axis: averaged over, not a column (`train.seed`, `data.seed`, …).
fn is_seed(a: &Assignment) -> bool {
    a.path == "seed" || a.path.ends_with(".seed")
}

/// One setting's runs: the non-seed assignments and the rows over seeds.
#[derive(Debug, serde::Serialize)]
pub struct Group {
    pub settings: Vec<String>,
    pub seeds: Vec<String>,
    pub runs: Vec<String>,
    pub train_error: Stat,
    pub test_error: Stat,
    pub interpolation: Option<Stat>,
    pub sampling: Option<Stat>,
    pub k: Option<Stat>,
    pub wall_seconds: Stat,
}

/// Mean and sample standard deviation (None for one value).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Stat {
    pub mean: f64,
    pub std: Option<f64>,
    pub n: usize,
}

impl Stat {
    pub fn of(v: &[f64]) -> Stat {
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n.max(1) as f64;
        let std = (n > 1)
            .then(|| (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
        Stat { mean, std, n }
    }

    /// Of the values present; None when no run has the measure.
    fn of_some(v: impl Iterator<Item = Option<f64>>) -> Option<Stat> {
        let v: Vec<f64> = v.flatten().collect();
        (!v.is_empty()).then(|| Stat::of(&v))
    }

    fn cell(&self, digits: usize) -> String {
        match self.std {
            Some(s) => format!("{:.digits$} ± {:.digits$}", self.mean, s),
            None => format!("{:.digits$}", self.mean),
        }
    }
}

fn cell(s: Option<Stat>, digits: usize) -> String {
    s.map_or_else(|| "—".into(), |s| s.cell(digits))
}

/// The sweep's runs, and their groups in the order their first run appears.
pub struct Summary {
    pub rows: Vec<Row>,
    pub groups: Vec<Group>,
}

impl Summary {
    pub fn of(runs: &[(Vec<Assignment>, Row)]) -> Summary {
        // (the group's non-seed assignments, its members as (seeds, row))
        type Members<'a> = Vec<(String, &'a Row)>;
        let mut groups: Vec<(Vec<String>, Members)> = vec![];
        for (set, row) in runs {
            let key: Vec<String> = set
                .iter()
                .filter(|a| !is_seed(a))
                .map(Assignment::to_string)
                .collect();
            let seed: Vec<String> = set
                .iter()
                .filter(|a| is_seed(a))
                .map(Assignment::to_string)
                .collect();
            let seed = seed.join(",");
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push((seed, row)),
                None => groups.push((key, vec![(seed, row)])),
            }
        }
        let groups = groups
            .into_iter()
            .map(|(settings, members)| {
                let rows: Vec<&Row> = members.iter().map(|(_, r)| *r).collect();
                let all =
                    |f: fn(&Row) -> f64| Stat::of(&rows.iter().map(|r| f(r)).collect::<Vec<_>>());
                Group {
                    settings,
                    seeds: members.iter().map(|(s, _)| s.clone()).collect(),
                    runs: rows.iter().map(|r| r.name.clone()).collect(),
                    train_error: all(|r| r.train_error),
                    test_error: all(|r| r.test_error),
                    interpolation: Stat::of_some(rows.iter().map(|r| r.interpolation.map(|v| v.0))),
                    sampling: Stat::of_some(rows.iter().map(|r| r.sampling.map(|v| v.0))),
                    k: Stat::of_some(rows.iter().map(|r| r.k.map(|k| k as f64))),
                    wall_seconds: all(|r| r.wall_seconds),
                }
            })
            .collect();
        Summary {
            rows: runs.iter().map(|(_, r)| r.clone()).collect(),
            groups,
        }
    }

    /// The grouped table's header and cells.
    pub fn cells(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let header = vec![
            "settings",
            "seeds",
            "train %",
            "test %",
            "interpolation %",
            "random sampling %",
            "k",
            "wall s",
        ];
        let body = self
            .groups
            .iter()
            .map(|g| {
                vec![
                    if g.settings.is_empty() {
                        "(the file's)".into()
                    } else {
                        g.settings.join(" ")
                    },
                    g.seeds.len().to_string(),
                    g.train_error.cell(2),
                    g.test_error.cell(2),
                    cell(g.interpolation, 2),
                    cell(g.sampling, 2),
                    cell(g.k, 1),
                    g.wall_seconds.cell(0),
                ]
            })
            .collect();
        (header, body)
    }

    /// Writes `sweep.md`, `sweep.json` and the compare table and figures over every
    /// run (`compare.md`, `compare.html` with this table at its top); returns the
    /// grouped table in Markdown.
    pub fn write(&self, out: &Path) -> Result<String> {
        let (header, body) = self.cells();
        let note = "Mean ± sample standard deviation over each setting's seeds.";
        let md = format!("{}\n{note}\n", crate::compare::markdown(&header, &body));
        write_atomic(&out.join("sweep.md"), md.as_bytes())?;
        let json = serde_json::to_string_pretty(&self.groups)
            .map_err(|e| RunError::write(out.join("sweep.json"), e))?;
        write_atomic(&out.join("sweep.json"), json.as_bytes())?;
        let extra = crate::compare::Extra {
            title: "Over seeds",
            header: &header,
            body: &body,
            note,
        };
        crate::compare::write(&self.rows, out, Some(extra))?;
        Ok(md)
    }
}
