//! `svd_truncate(k)`: the RRAE, with a fixed, annealed or adaptive rank (aRRAE).

use super::identity::Identity;
use super::{Cx, LatentDef, LatentOp};
use crate::error::{ErrorKind, Result};
use crate::ir::inference::{Basis, Inference};
use crate::signature::{p, ArgTy::*, Dflt, OpSpec, ParamSpec};
use crate::value::{fmt_float, Value};
use std::fmt;

/// The adaptive search's algorithm (the trainer's controller runs it; checkpoints
/// record it by its snake-case name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Search {
    /// Algorithm 1: start at min(batch, L), lower k while the target is reached.
    Decreasing,
    /// Grow k from 1 until another mode stops helping.
    Parsimonious,
    /// Bisect between 1 and min(batch, L).
    Bisect,
    /// Algorithm 1, also giving up a rank whose loss would need more than `horizon`
    /// further steps at its recent rate to reach the target.
    Trend,
    /// The authors' library's own rule (`RRAE_gen_Tracker`): Algorithm 1's path with
    /// tests on a 20-step running mean, and no checkpoint restored after the give-up.
    Library,
}

/// The adaptive search's defaults (`svd_truncate(k = adaptive)` without `patience`,
/// `tolerance` or `window`): declared here, read by the checker below and the trainer's
/// controller options; the parameter docs quote them (a test checks).
pub const ADAPTIVE_PATIENCE: usize = 500;
pub const ADAPTIVE_TOLERANCE: f64 = 0.01;
pub const ADAPTIVE_WINDOW: usize = 100;
/// `search = library`'s `window`: the library's `stagn_window`, its running mean's length.
pub const LIBRARY_WINDOW: usize = 20;

impl Search {
    /// Every search, in the order `rrae check` and the LSP list them.
    pub const ALL: [Search; 5] = [
        Search::Decreasing,
        Search::Parsimonious,
        Search::Bisect,
        Search::Trend,
        Search::Library,
    ];

    /// Its word in a model file (`search = bisect`).
    pub const fn name(self) -> &'static str {
        match self {
            Search::Decreasing => "decreasing",
            Search::Parsimonious => "parsimonious",
            Search::Bisect => "bisect",
            Search::Trend => "trend",
            Search::Library => "library",
        }
    }

    /// `window` when the file gives none: the library's own running mean for its rule.
    pub const fn default_window(self) -> usize {
        match self {
            Search::Library => LIBRARY_WINDOW,
            Search::Decreasing | Search::Parsimonious | Search::Bisect | Search::Trend => {
                ADAPTIVE_WINDOW
            }
        }
    }

    /// The search a word names.
    pub fn from_name(word: &str) -> Option<Search> {
        Search::ALL.into_iter().find(|s| s.name() == word)
    }
}

/// The words of `search = …`, from [`Search::name`].
pub const SEARCHES: &[&str] = &[
    Search::ALL[0].name(),
    Search::ALL[1].name(),
    Search::ALL[2].name(),
    Search::ALL[3].name(),
    Search::ALL[4].name(),
];

impl fmt::Display for Search {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())
    }
}

/// `Y ↦ U_k U_kᵀ Y` per batch, with the rank k kept as follows.
#[derive(Clone, Debug, PartialEq)]
pub enum Rank {
    Fixed(usize),
    /// Rank k, reached by lowering the kept rank geometrically from min(batch, L)
    /// over the first `steps` training steps (`svd_truncate(k = 2, anneal = 500)`).
    Annealed {
        k: usize,
        steps: usize,
    },
    /// Rank k, reached the way the adaptive search descends (`svd_truncate(k = 2,
    /// descend = true)`): train at min(batch, L) until the loss stagnates, keep that loss
    /// as the target, lower the rank by one each time a step reaches it, down to k, then
    /// train at k to the end of the steps. The aRRAE never folded on the bumps where k = 2
    /// from the first step folds at most seeds (docs/results.md); this is its descent with
    /// the floor known.
    Descended {
        k: usize,
    },
    Adaptive {
        search: Search,
        /// `search = trend` only: the most further steps a rank may need.
        horizon: Option<usize>,
        patience: usize,
        tolerance: f64,
        window: usize,
        /// The search's step budget; `None`: the train block's `steps`.
        max_steps: Option<usize>,
        /// `search = library` only: a target loss given outright (the library's
        /// `perf_loss`): the warm-up ends when a step's loss is below it.
        target: Option<f64>,
    },
}

/// The options only the adaptive search reads.
const ADAPTIVE_ONLY: &[&str] = &[
    "search",
    "patience",
    "tolerance",
    "window",
    "max_steps",
    "horizon",
    "target",
];

/// The rank's parameters, shared with the variational RRAE (`vrrae`), which takes its
/// rank the same way.
pub const RANK_PARAMS: [ParamSpec; 10] = [
    p("k", IntOrWord(&["adaptive"]), Dflt::Required, "rank kept per batch, or `adaptive` (aRRAE)"),
    p("anneal", Int, Dflt::Absent, "fixed k only: steps over which the kept rank falls geometrically from min(batch, L) to k (default: k from the first step)"),
    p("descend", Bool, Dflt::Absent, "fixed k only: reach k as the aRRAE descends, one rank each time the loss reaches the target set at min(batch, L), then train at k (default: false, k from the first step)"),
    p("search", Word(SEARCHES), Dflt::Absent, "adaptive only: decreasing (Algorithm 1), parsimonious (k grows from 1), bisect, trend (Algorithm 1 that also gives up a rank off course), or library (the authors' library's rule)"),
    p("horizon", Int, Dflt::Absent, "search = trend only: the most further steps a rank's loss may need at its recent rate to reach the target (5 · patience)"),
    p("target", Float, Dflt::Absent, "search = library only: the target loss given outright (the library's perf_loss); the warm-up ends when a step's loss is below it (default: set by the warm-up)"),
    p("patience", Int, Dflt::Absent, "adaptive only: steps of stagnation above the target before giving up on a k (500)"),
    p("tolerance", Float, Dflt::Absent, "adaptive only: relative loss change that counts as stagnation (0.01)"),
    p("window", Int, Dflt::Absent, "adaptive only: steps over which stagnation is measured; search = library: its running mean's length, 20 (100)"),
    p("max_steps", Int, Dflt::Absent, "adaptive only: the most training steps the search may take, settling at k* included (the train block's steps)"),
];

impl LatentDef for Rank {
    const SPEC: OpSpec = OpSpec {
        name: "svd_truncate",
        params: &RANK_PARAMS,
        positional: 1,
        doc: "RRAE: Y ↦ U_k U_kᵀ Y per batch; inference projects on the common basis U_f",
    };

    fn check(cx: &Cx) -> Result<LatentOp> {
        if matches!(cx.b.get("k"), Some(Value::Symbol(_))) {
            return adaptive(cx).map(LatentOp::SvdTruncate);
        }
        refuse(
            cx,
            ADAPTIVE_ONLY,
            "only the adaptive search (`k = adaptive`) uses it",
        )?;
        let k = cx.batch_rank("k")?;
        let anneal = anneal_steps(cx)?;
        let descend = cx.b.given("descend") && cx.b.bool("descend");
        if descend && anneal.is_some() {
            refuse(
                cx,
                &["descend"],
                "a rank is either annealed on a schedule (`anneal`) or descended (`descend`), not both",
            )?;
        }
        // Y ∈ R^{L×B} with k = L keeps every mode: U_k U_kᵀ Y = Y. That is the
        // Diabolo AE (a Long AE of width k), so it lowers to the identity.
        Ok(if k == cx.dim {
            Identity.into()
        } else if let Some(steps) = anneal {
            LatentOp::SvdTruncate(Rank::Annealed { k, steps })
        } else if descend {
            LatentOp::SvdTruncate(Rank::Descended { k })
        } else {
            LatentOp::SvdTruncate(Rank::Fixed(k))
        })
    }

    fn inference(&self) -> Inference {
        let rank = match self {
            Rank::Fixed(k) | Rank::Annealed { k, .. } | Rank::Descended { k } => Some(*k),
            Rank::Adaptive { .. } => None,
        };
        Inference::Project {
            basis: Basis::Common,
            rank,
        }
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rank::Fixed(k) => write!(f, "svd_truncate(k={k})"),
            Rank::Annealed { k, steps } => write!(f, "svd_truncate(k={k}, anneal={steps})"),
            Rank::Descended { k } => write!(f, "svd_truncate(k={k}, descend=true)"),
            Rank::Adaptive {
                search,
                horizon,
                patience,
                tolerance,
                window,
                max_steps,
                target,
            } => write!(
                f,
                "svd_truncate(k=adaptive, search={search}{}, patience={patience}, tolerance={}, window={window}{}{})",
                horizon.map(|h| format!(", horizon={h}")).unwrap_or_default(),
                fmt_float(*tolerance),
                max_steps.map(|m| format!(", max_steps={m}")).unwrap_or_default(),
                target.map(|t| format!(", target={}", fmt_float(t))).unwrap_or_default()
            ),
        }
    }

    fn rank_control(&self) -> Option<&Rank> {
        Some(self)
    }
}

/// Options of the other mode (fixed or adaptive k), or of two ways to one rank, are
/// refused, not ignored.
fn refuse(cx: &Cx, opts: &[&str], reason: &str) -> Result<()> {
    match opts.iter().find(|o| cx.b.given(o)) {
        Some(opt) => Err(ErrorKind::OptionConflict {
            span: cx.b.span(opt),
            op: cx.b.op.clone(),
            option: opt.to_string(),
            reason: reason.into(),
        }
        .into()),
        None => Ok(()),
    }
}

/// `anneal`: at least 1 step, and no more than the training steps (the rank must
/// reach k before the common basis is computed).
fn anneal_steps(cx: &Cx) -> Result<Option<usize>> {
    if !cx.b.given("anneal") {
        return Ok(None);
    }
    let v = cx.b.int("anneal");
    if v < 1 || v as usize > cx.train.steps {
        return Err(ErrorKind::InvalidValue {
            span: cx.b.span("anneal"),
            what: "`anneal` of `svd_truncate`".into(),
            value: v.to_string(),
            reason: format!(
                "the rank is annealed over 1 to {} steps (the train block's `steps`)",
                cx.train.steps
            ),
        }
        .into());
    }
    Ok(Some(v as usize))
}

/// `k = adaptive`: the search and its options, defaults from the catalog.
fn adaptive(cx: &Cx) -> Result<Rank> {
    refuse(
        cx,
        &["anneal", "descend"],
        "only a fixed rank (`k = 2`) is annealed or descended; the adaptive search lowers k itself",
    )?;
    let patience = cx.at_least("patience", 1)?.unwrap_or(ADAPTIVE_PATIENCE);
    let max_steps = cx.at_least("max_steps", 1)?;
    let horizon = cx.at_least("horizon", 1)?;
    if cx.b.word("search") != Some("trend") {
        refuse(
            cx,
            &["horizon"],
            "only the trend search (`search = trend`) has a horizon",
        )?;
    }
    if cx.b.word("search") != Some("library") {
        refuse(
            cx,
            &["target"],
            "only the library search (`search = library`) takes its target outright",
        )?;
    }
    let target = if cx.b.given("target") {
        Some(cx.float_in("target", 0.0, f64::MAX, "a loss above 0")?)
    } else {
        None
    };
    // The resolver admits only the words of `SEARCHES`; without one, Algorithm 1.
    let search =
        cx.b.word("search")
            .and_then(Search::from_name)
            .unwrap_or(Search::Decreasing);
    let window = cx.at_least("window", 1)?.unwrap_or(search.default_window());
    let horizon = (search == Search::Trend).then(|| horizon.unwrap_or(patience.saturating_mul(5)));
    let tolerance = if cx.b.get("tolerance").is_some() {
        cx.float_in("tolerance", 0.0, 1.0, "a relative tolerance in (0, 1)")?
    } else {
        ADAPTIVE_TOLERANCE
    };
    Ok(Rank::Adaptive {
        search,
        horizon,
        patience,
        tolerance,
        window,
        max_steps,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adaptive defaults are declared once (the constants); the parameter docs
    /// `rrae check` and the LSP show quote them, and must quote the same numbers.
    #[test]
    fn the_adaptive_parameter_docs_quote_the_declared_defaults() {
        let doc = |name: &str| {
            <Rank as LatentDef>::SPEC
                .params
                .iter()
                .find(|p| p.name == name)
                .map_or("", |p| p.doc)
        };
        assert!(doc("patience").ends_with(&format!("({ADAPTIVE_PATIENCE})")));
        assert!(doc("tolerance").ends_with(&format!("({ADAPTIVE_TOLERANCE})")));
        assert!(doc("window").ends_with(&format!("({ADAPTIVE_WINDOW})")));
        assert!(doc("window").contains(&format!(
            "library: its running mean's length, {LIBRARY_WINDOW}"
        )));
    }

    #[test]
    fn every_search_is_named_once_and_read_back() {
        for s in Search::ALL {
            assert_eq!(Search::from_name(s.name()), Some(s));
            assert_eq!(SEARCHES.iter().filter(|w| **w == s.name()).count(), 1);
        }
        assert_eq!(SEARCHES.len(), Search::ALL.len());
    }
}
