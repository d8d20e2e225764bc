#!/usr/bin/env python3
"""The table of bench/table2/full_length.sh's runs: per data set, search and seed, k*
against the paper's (MNIST 16, Fashion-MNIST 23), the target, where the training steps
went, the errors and the local FIDs at 10,000 images. Standard library only.

    python3 bench/table2/full_length_table.py [RUNS_DIR]      # default runs/table2-full
"""
import json
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "runs/table2-full"
paper = {"mnist": 16, "fashion_mnist": 23}
print("| data | search | seed | k* (paper) | target loss (step set) | training steps: warm-up + kept + given up + settling | "
      "test % | FID local recon. / interp. / sampling | wall s |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for ds in sorted(os.listdir(root)):
    d = os.path.join(root, ds)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        m = re.fullmatch(r"(\w+)-s(\d+)", name)
        path = os.path.join(d, name, "metrics.json")
        if not m or not os.path.isfile(path):
            continue
        j = json.load(open(path))
        e, sp = j["metrics"], j.get("search_steps") or {}
        target_step = next((x["step"] for x in j["decisions"] if x.get("action") == "save"), None)
        fid = " / ".join(f"{e[k]:.2f}" if e.get(k) is not None else "—"
                         for k in ("fid_reconstruction", "fid_interpolation", "fid_sampling"))
        spent = (f"{sp.get('warmup', 0)} + {sp.get('kept', 0)} + {sp.get('given_up', 0)} + "
                 f"{sp.get('settle', 0)} = {j['train_steps_done']}")
        print(f"| {ds} | {m[1]} | {m[2]} | **{j['k']}** ({paper.get(ds, '?')}) | "
              f"{j['target_loss']:.3f} ({target_step}) | {spent} | {e['test_error']:.2f} | {fid} | "
              f"{j['wall_seconds']:.0f} |")
