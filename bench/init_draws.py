#!/usr/bin/env python3
"""Are rrae's initial draws of models/rrae.rrae distributed as PyTorch's?

docs/results.md found that a fixed-k RRAE run's outcome (good, or folded: the map from
bump centres to the two coefficients folds over) is decided by its draw of initial
weights, and that a draw gives the same outcome in rrae and in PyTorch. So if rrae's own
seeds fold more often than PyTorch's, either its draws differ in distribution or the
difference is chance. This script measures every draw through the same PyTorch network:

- PyTorch's draw of seed S: `torch.manual_seed(S)` then the network, as torch_rrae.py;
- rrae's draw of seed S: the `model.safetensors` of
  `rrae run models/rrae.rrae --steps 0 --fine-tune-steps 0 --seed S --out DIR/sS`;

and for each draw prints the per-layer weight spread, the initial loss, the latent
singular values and how folded the initial coefficient map already is. It then compares
the two programs' distributions (Mann-Whitney U, two-sided) and, where trained outcomes
are given (`--outcomes`), whether a statistic separates good runs from folded ones.

    bench/torch_venv.sh bench/init_draws.py --rrae-dir DIR --seeds 40 [--outcomes FILE.json]

FILE.json: {"rrae": {"0": test_error_percent, ...}, "torch": {...}}; good is test <= 4 %.
"""
import argparse
import json
import os

import numpy as np
import torch
from scipy import stats as st

from torch_bumps import N, PAIRS, RRAE, load_rrae, rel, tr, train_c, truncate

p = argparse.ArgumentParser()
p.add_argument("--rrae-dir", required=True)
p.add_argument("--seeds", type=int, default=40)
p.add_argument("--latent", type=int, default=64)
p.add_argument("--outcomes", default=None)
p.add_argument("--out", default=None, help="write every draw's statistics as JSON")
p.add_argument("--weights-only", action="store_true",
               help="only the per-layer spreads (no forward pass: fast for hundreds of draws)")
a = p.parse_args()
torch.set_num_threads(1)


def cross(p0, p1, p2):
    return ((p1[..., 0] - p0[..., 0]) * (p2[..., 1] - p0[..., 1])
            - (p1[..., 1] - p0[..., 1]) * (p2[..., 0] - p0[..., 0]))


def folded_fraction(c):
    """The share of the grid's 2 x 19 x 19 triangles whose orientation in coefficient
    space is the minority one: 0 for a map that does not fold, up to 0.5."""
    g = c.reshape(N, N, 2)  # [x index, y index], as train_c is x-major
    a0, b0, d0, e0 = g[:-1, :-1], g[1:, :-1], g[:-1, 1:], g[1:, 1:]
    s = np.sign(np.concatenate([cross(a0, b0, d0).ravel(), cross(e0, d0, b0).ravel()]))
    return float(min((s > 0).mean(), (s < 0).mean()))


def affine_r2(c):
    """How much of each coefficient an affine function of the centre explains (mean of 2)."""
    X = np.c_[train_c, np.ones(len(train_c))]
    coef, *_ = np.linalg.lstsq(X, c, rcond=None)
    res = ((c - X @ coef) ** 2).sum(0)
    return float(np.mean(1 - res / ((c - c.mean(0)) ** 2).sum(0)))


def describe(model):
    out = {}
    mods = dict(model.named_modules())
    for mine, theirs, _ in PAIRS:
        for part in ("weight", "bias"):
            t = getattr(mods[mine], part)
            if t.numel() > 1:  # the last layer's single bias has no spread
                out[f"{theirs}.{part}_std"] = float(t.detach().std())
    if a.weights_only:
        return out
    with torch.no_grad():
        y = model.enc(tr)
        z, uk = truncate(y, 2)
        out["initial_loss"] = float(rel(model.decode(z), tr))
        s = torch.linalg.svdvals(y.T).numpy()
        out["sigma2_over_sigma1"] = float(s[1] / s[0])
        out["sigma3_over_sigma1"] = float(s[2] / s[0])
        c = (y @ uk).numpy().astype(np.float64)  # the RRAE's uncentred basis
        out["folded_fraction"] = folded_fraction(c)
        out["affine_r2"] = affine_r2(c)
        yc = (y - y.mean(0)).numpy().astype(np.float64)  # the centred principal plane
        u, _, _ = np.linalg.svd(yc.T, full_matrices=False)
        cc = yc @ u[:, :2]
        out["folded_fraction_centred"] = folded_fraction(cc)
        out["affine_r2_centred"] = affine_r2(cc)
    return out


draws = {"torch": {}, "rrae": {}}
for s in range(a.seeds):
    torch.manual_seed(s)
    draws["torch"][s] = describe(RRAE(a.latent))
    path = os.path.join(a.rrae_dir, f"s{s}", "model.safetensors")
    if os.path.exists(path):
        m = RRAE(a.latent)
        load_rrae(m, path)
        draws["rrae"][s] = describe(m)
missing = a.seeds - len(draws["rrae"])
print(f"{a.seeds} PyTorch draws, {len(draws['rrae'])} rrae draws"
      + (f" ({missing} seeds had no rrae folder)" if missing else ""))
keys = list(next(iter(draws["torch"].values())).keys())
print(f"{'statistic':32} {'PyTorch median':>15} {'rrae median':>12} {'Mann-Whitney p':>15}")
for k in keys:
    t = [d[k] for d in draws["torch"].values()]
    r = [d[k] for d in draws["rrae"].values()]
    pv = st.mannwhitneyu(t, r).pvalue if r else float("nan")
    print(f"{k:32} {np.median(t):15.5g} {np.median(r) if r else float('nan'):12.5g} {pv:15.3g}")

if a.outcomes:
    oc = json.load(open(a.outcomes))
    print("\nDoes a statistic of the draw predict the outcome (good: test <= 4 %)?")
    rows = [(prog, int(s), float(e)) for prog in ("torch", "rrae") for s, e in oc[prog].items()
            if int(s) in draws[prog]]
    good = np.array([e <= 4 for _, _, e in rows])
    print(f"{len(rows)} trained runs, {good.sum()} good")
    print(f"{'statistic':32} {'good median':>12} {'folded median':>14} {'Mann-Whitney p':>15}")
    for k in keys:
        v = np.array([draws[prog][s][k] for prog, s, _ in rows])
        if good.all() or not good.any():
            break
        pv = st.mannwhitneyu(v[good], v[~good]).pvalue
        print(f"{k:32} {np.median(v[good]):12.5g} {np.median(v[~good]):14.5g} {pv:15.3g}")
if a.out:
    with open(a.out, "w") as f:
        json.dump(draws, f, indent=1)
