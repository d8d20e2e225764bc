#!/usr/bin/env python3
"""The authors' packages' rows of docs/results.md, from bench/authors/run.sh's and
signals.sh's JSON (runs/authors/) and, beside them, rrae's own signal runs
(runs/signals/PROBLEM-sSEED, `rrae run examples/signals/PROBLEM.rrae --seed S --out ...`).
Standard library only.

    python3 bench/authors/table.py bumps
    python3 bench/authors/table.py signals
"""
import glob
import json
import os
import re
import sys

what = sys.argv[1] if len(sys.argv) > 1 else "bumps"
if what == "bumps":
    print("| program | model | seed | train % | test % | interp. bump fit % (mean ± std, median) | "
          "sampling bump fit % | parametric test % | k | median ms/step (its own timer) | wall s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for p in sorted(glob.glob("runs/authors/*-s*.json")):
        m = json.load(open(p))
        f = lambda d: f"{d['mean']:.2f} ± {d['std']:.2f}, {d['median']:.2f}"
        ver = m.get(m["program"], "")
        print(f"| {m['program']} {ver} | {m['model']} | {m['seed']} | {m['train_error']:.2f} | "
              f"{m['test_error']:.2f} | {f(m['interpolation_bump_fit'])} | {f(m['sampling_bump_fit'])} | "
              f"{m['test_error_parametric']:.2f} | {m['k']} | {m['median_ms_per_step']:.0f} | "
              f"{m['wall_seconds']:.0f} |")
else:
    rows = []
    for p in sorted(glob.glob("runs/authors/signals/*.json")):
        m = json.load(open(p))
        rows.append((m["problem"], f"{m['program']} {m.get(m['program'], '')}", m["seed"],
                     m["train_error"], m["test_error"], m["test_error_parametric"], m["wall_seconds"]))
    for d in sorted(glob.glob("runs/signals/*-s*")):
        mm = re.fullmatch(r"(\w+)-s(\d+)", os.path.basename(d))
        path = os.path.join(d, "metrics.json")
        if mm and os.path.isfile(path):
            j = json.load(open(path))
            e = j["metrics"]
            rows.append((mm[1], "rrae (the example file)", int(mm[2]), e["train_error"],
                         e["test_error"], e["test_error_parametric"], j["wall_seconds"]))
    for r in sorted(rows, key=lambda r: (r[0], r[1], r[2])):
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.0f} |")
