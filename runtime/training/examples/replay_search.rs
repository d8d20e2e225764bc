//! Replays a finished run's training losses through the controller with another
//! search and says where its decisions part from the recorded ones.
//!
//! The controller is a pure function of the loss trace, and the model is the same as
//! long as the decisions are, so up to the first difference this *is* the other
//! search's run, step for step; past it, the recorded losses no longer apply. That
//! makes it exact for a search that only adds a test to the recorded one (`trend` on
//! an Algorithm 1 run: the step at which it gives a rank up and the rank it settles
//! at), and a self-check when the search is the recorded one (no difference at all).
//!
//! `cargo run --release -p rrae-train --example replay_search -- RUN_DIR SEARCH [OPTION=N …]`
//! (SEARCH: decreasing, bisect, trend; options as in the model file, for those the run
//! did not leave at their defaults: `window=250`, `patience=`, `tolerance=`,
//! `max_steps=`, `horizon=` (5 · patience)).

use rrae_lang::latent::svd_truncate::{ADAPTIVE_PATIENCE, ADAPTIVE_TOLERANCE};
use rrae_train::control::{Action, Controller, Decision, Options, Phase, Search};
use std::collections::BTreeMap;
use std::path::Path;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, search, given) = match &args[..] {
        [dir, search, given @ ..] => (Path::new(dir), search.as_str(), given),
        _ => return Err("usage: replay_search RUN_DIR SEARCH [OPTION=N …]".into()),
    };
    let mut opt: BTreeMap<&str, f64> = BTreeMap::new();
    for g in given {
        let (key, value) = g.split_once('=').ok_or("options are written key=value")?;
        opt.insert(key, value.parse()?);
    }
    let get = |key: &str, default: f64| opt.get(key).copied().unwrap_or(default);
    let algorithm = match Search::from_name(search) {
        Some(s @ (Search::Decreasing | Search::Bisect | Search::Trend | Search::Library)) => s,
        // It grows from k = 1, so a replay cannot read k_max from its first decision.
        Some(Search::Parsimonious) => {
            return Err("replaying a parsimonious search is not supported".into())
        }
        None => return Err(format!("unknown search {search}").into()),
    };
    let patience = get("patience", ADAPTIVE_PATIENCE as f64) as usize;
    let horizon = get("horizon", 5.0 * patience as f64) as usize;
    let losses = train_losses(&dir.join("losses.csv"))?;
    let recorded = decisions(&dir.join("decisions.jsonl"))?;
    let k_max = match recorded.first().map(|d| &d.action) {
        Some(Action::SetK { k }) => *k,
        _ => return Err("the run is not an adaptive search".into()),
    };
    let opts = Options {
        window: get("window", algorithm.default_window() as f64) as usize,
        tolerance: get("tolerance", ADAPTIVE_TOLERANCE),
        patience,
        max_steps: get("max_steps", 10_000.0) as usize,
        fine_tune_steps: 500,
        anneal: 0,
        horizon: if algorithm == Search::Trend {
            horizon
        } else {
            0
        },
        target: opt.get("target").copied(),
    };
    // The recorded training decisions by step, as (action, reason).
    let mut by_step: BTreeMap<usize, Vec<&Decision>> = BTreeMap::new();
    for d in recorded.iter().filter(|d| d.phase == Phase::Train) {
        by_step.entry(d.step).or_default().push(d);
    }
    let mut c = Controller::adaptive(algorithm, k_max, opts);
    let mut ours = c.begin();
    for (i, loss) in losses.iter().enumerate() {
        let step = i + 1;
        ours.extend(c.observe(*loss));
        let mine: Vec<&Decision> = ours.iter().filter(|d| d.step == step).collect();
        let theirs = by_step.get(&step).cloned().unwrap_or_default();
        let same = mine.len() == theirs.len()
            && mine.iter().zip(&theirs).all(|(a, b)| a.action == b.action);
        if !same {
            println!("{}: the decisions part at step {step}", dir.display());
            for d in &theirs {
                println!("  recorded: {:?} — {}", d.action, d.reason);
            }
            for d in &mine {
                println!("  {search}:  {:?} — {}", d.action, d.reason);
            }
            if let Some(s) = c.search_steps() {
                println!("  {search} so far: {s}");
            }
            return Ok(());
        }
        if c.k_star().is_some() {
            break;
        }
    }
    match c.k_star() {
        Some(k) => println!(
            "{}: {search} takes the recorded decisions to the end of the search (k* = {k})",
            dir.display()
        ),
        None => println!(
            "{}: {search} takes the recorded decisions as far as the {} recorded losses go; \
             its search had not ended there",
            dir.display(),
            losses.len()
        ),
    }
    Ok(())
}

fn train_losses(path: &Path) -> Result<Vec<f64>, Error> {
    let rows = rrae_train::schedule::losses::read(path)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.phase == "train")
        .map(|r| r.loss)
        .collect())
}

fn decisions(path: &Path) -> Result<Vec<Decision>, Error> {
    let text = std::fs::read_to_string(path)?;
    let mut out = vec![];
    for line in text.lines() {
        out.push(serde_json::from_str(line)?);
    }
    Ok(out)
}
