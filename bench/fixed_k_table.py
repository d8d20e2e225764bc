#!/usr/bin/env python3
"""The fixed-rank success table of docs/results.md from bench/fixed_k.sh's run folders.

    python3 bench/fixed_k_table.py [RUNS_DIR]          # default runs/fixed-k

A run succeeds at the paper's error level when its test error is at most 2 % and its
interpolated images are bumps to at most 2 % (the mean `interpolation_bump_fit`); the
looser bar of earlier tables, test error at most 4 %, is counted too. Each recipe is
compared with the paper's literal recipe (`paper`) of the same width on the seeds both
have, by Fisher's exact test (one-sided: the recipe succeeds more often; and two-sided).
Standard library only.
"""
import json
import math
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "runs/fixed-k"
runs = {}
for name in sorted(os.listdir(root)):
    m = re.fullmatch(r"(\w+)-(\w+)-s(\d+)", name)
    path = os.path.join(root, name, "metrics.json")
    if not m or not os.path.isfile(path):
        continue
    j = json.load(open(path))
    e = j["metrics"]
    runs.setdefault((m[1], m[2]), {})[int(m[3])] = {
        "train": e["train_error"], "test": e["test_error"],
        "interp": e["interpolation_bump_fit"]["mean"], "sampling": e["sampling_bump_fit"]["mean"],
        "steps": j["train_steps_done"], "wall": j["wall_seconds"],
    }


def strict(r):
    return r["test"] <= 2.0 and r["interp"] <= 2.0


def loose(r):
    return r["test"] <= 4.0


def fisher(a, b, c, d):
    """Fisher's exact test on [[a, b], [c, d]] (successes, failures of two groups): the
    one-sided p that the first group succeeds this much more often, and the two-sided p."""
    n1, n2, s = a + b, c + d, a + c
    n = n1 + n2
    pmf = lambda x: math.comb(n1, x) * math.comb(n2, s - x) / math.comb(n, s)
    xs = range(max(0, s - n2), min(s, n1) + 1)
    one = sum(pmf(x) for x in xs if x >= a)
    two = sum(pmf(x) for x in xs if pmf(x) <= pmf(a) * (1 + 1e-9))
    return min(one, 1.0), min(two, 1.0)


print("| width | recipe | seeds | test ≤ 2 % and interpolation ≤ 2 % | test ≤ 4 % | "
      "test % (median) | interp. bump fit % (median) | steps | wall s (median) | "
      "Fisher p against `paper`, strict: one-sided (two-sided) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
med = lambda v: sorted(v)[len(v) // 2] if len(v) % 2 else sum(sorted(v)[len(v) // 2 - 1:len(v) // 2 + 1]) / 2
for (width, recipe), by_seed in sorted(runs.items()):
    rs = list(by_seed.values())
    p = ""
    base = runs.get((width, "paper"), {})
    both = sorted(set(by_seed) & set(base))
    if recipe != "paper" and both:
        a = sum(strict(by_seed[s]) for s in both)
        c = sum(strict(base[s]) for s in both)
        one, two = fisher(a, len(both) - a, c, len(both) - c)
        p = f"{one:.3g} ({two:.3g}), {a} against {c} of seeds {both[0]}–{both[-1]}"
    print(f"| {width} | {recipe} | {','.join(map(str, sorted(by_seed)))} | "
          f"{sum(map(strict, rs))} of {len(rs)} | {sum(map(loose, rs))} of {len(rs)} | "
          f"{med([r['test'] for r in rs]):.2f} | {med([r['interp'] for r in rs]):.2f} | "
          f"{med([r['steps'] for r in rs]):.0f} | {med([r['wall'] for r in rs]):.0f} | {p} |")
print()
print("| width | recipe | seed | train % | test % | interp. bump fit % | sampling bump fit % |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for (width, recipe), by_seed in sorted(runs.items()):
    for s, r in sorted(by_seed.items()):
        print(f"| {width} | {recipe} | {s} | {r['train']:.2f} | {r['test']:.2f} | "
              f"{r['interp']:.2f} | {r['sampling']:.2f} |")
