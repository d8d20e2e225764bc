#!/usr/bin/env python3
"""The fixed-k seed study's table and tests (docs/results.md, "Ten seeds each").

Reads rrae run folders (metrics.json) and bench/torch_rrae.py outputs (--out JSON) of the
same recipe and prints, per seed, train / test / interpolation (bump fit) / against the
centre / sampling, the success rates by two criteria and one-sided Fisher exact tests:

- good: test error <= 4 % (the bar docs/results.md has used since issue 3);
- not folded: interpolation against the interpolated centre < 35 % (the good runs give
  18 - 29 %, the folded ones 42 - 74 %), which does not depend on a test-set draw.

    bench/torch_venv.sh bench/seed_table.py --rrae 'runs/seeds/rrae-s{}' \\
        --torch 'runs/seeds/torch-s{}.json' --seeds 0-9 [--extra-rrae S=TEST ...]

`--extra-rrae`/`--extra-torch` give a seed's row from a run whose folder is gone, as
docs/results.md recorded it: `S=train/test/interp/centre/sampling` (percent).
"""
import argparse
import json
import os

from scipy import stats as st

p = argparse.ArgumentParser()
p.add_argument("--rrae", required=True, help="run folder pattern, {} is the seed")
p.add_argument("--torch", required=True, help="JSON pattern, {} is the seed")
p.add_argument("--seeds", default="0-9")
p.add_argument("--extra-rrae", nargs="*", default=[])
p.add_argument("--extra-torch", nargs="*", default=[])
a = p.parse_args()
lo, hi = map(int, a.seeds.split("-"))
seeds = range(lo, hi + 1)


def rrae_row(s):
    path = os.path.join(a.rrae.format(s), "metrics.json")
    if not os.path.exists(path):
        return None
    m = json.load(open(path))["metrics"]
    return (m["train_error"], m["test_error"], m["interpolation_bump_fit"]["mean"],
            m["interpolation_error"], m["sampling_bump_fit"]["mean"])


def torch_row(s):
    path = a.torch.format(s)
    if not os.path.exists(path):
        return None
    m = json.load(open(path))
    return (m["train_error"], m["test_error"], m["interpolation_bump_fit"]["mean"],
            m["interpolation_error"], m["sampling_bump_fit"]["mean"])


def extra(items):
    return {int(k): tuple(float(x) for x in v.split("/")) for k, v in (i.split("=") for i in items)}


extras = {"rrae": extra(a.extra_rrae), "PyTorch": extra(a.extra_torch)}
rows = {"rrae": {s: rrae_row(s) or extras["rrae"].get(s) for s in seeds},
        "PyTorch": {s: torch_row(s) or extras["PyTorch"].get(s) for s in seeds}}
print("| seed | rrae: train / test / interp. (bump fit) / vs centre / sampling % | "
      "PyTorch: the same |")
print("| --- | --- | --- |")
fmt = lambda r: " / ".join(f"{v:.2f}" for v in r)
for s in seeds:
    cell = lambda prog: fmt(rows[prog][s]) if rows[prog][s] else "—"
    print(f"| {s} | {cell('rrae')} | {cell('PyTorch')} |")

counts = {}
for prog in rows:
    tests = {s: r[1] for s, r in rows[prog].items() if r}
    centre = [r[3] for r in rows[prog].values() if r]
    counts[prog] = (sum(v <= 4 for v in tests.values()), len(tests),
                    sum(v < 35 for v in centre), len(centre))
print()
for prog, (g, n, nf, m) in counts.items():
    print(f"{prog}: good (test <= 4 %) {g} of {n}; not folded (vs centre < 35 %) {nf} of {m}")
for i, name in ((0, "test <= 4 %"), (2, "vs centre < 35 %")):
    (gr, nr), (gt, nt) = counts["rrae"][i:i + 2], counts["PyTorch"][i:i + 2]
    one = st.fisher_exact([[gt, nt - gt], [gr, nr - gr]], alternative="greater").pvalue
    two = st.fisher_exact([[gt, nt - gt], [gr, nr - gr]]).pvalue
    print(f"Fisher exact, {name}: PyTorch {gt}/{nt} against rrae {gr}/{nr}: "
          f"one-sided p = {one:.3g}, two-sided p = {two:.3g}")
