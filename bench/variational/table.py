#!/usr/bin/env python3
"""The variational family's tables (docs/results.md, issue 39) from the run folders of
bench/variational/run.sh: Table 1 on the bumps (per width and model, each seed's train /
test / interpolation bump fit / sampling bump fit, then mean ± std over the seeds) and
Table 2 on MNIST and Fashion-MNIST (test error and the local FIDs, 10,000 images each).

    python3 bench/variational/table.py [--bumps runs/variational/bumps] [--images runs/table2]
"""
import argparse
import json
import os
import statistics as st

p = argparse.ArgumentParser()
p.add_argument("--bumps", default="runs/variational/bumps")
p.add_argument("--images", default="runs/table2")
p.add_argument("--fitted", default="runs/fitted",
               help="DATASET-MODEL runs of the image files with --set eval.sample_prior=false")
p.add_argument("--seeds", default="0 1 2")
a = p.parse_args()
seeds = [int(s) for s in a.seeds.split()]
NAMES = {"rrae": "RRAE", "vae": "VAE", "vrrae": "VRRAE", "lorae": "LoRAE", "long": "Long",
         "diabolo": "Diabolo", "irmae": "IRMAE", "arrae": "aRRAE",
         "vrrae_trainable": "VRRAE, trainable mean"}
# The latent column where it is not the model's name.
LATENTS = {"vrrae_trainable": "vrrae(…, mean = trainable)"}


def metrics(run):
    path = os.path.join(run, "metrics.json")
    if not os.path.exists(path):
        return None
    return json.load(open(path))


def pm(xs):
    if not xs:
        return "—"
    if len(xs) == 1:
        return f"{xs[0]:.2f}"
    return f"{st.mean(xs):.2f} ± {st.stdev(xs):.2f}"


def table(title, columns, rows):
    """One markdown table under a bold title; nothing where no run has finished."""
    if rows:
        print(f"\n**{title}**\n")
        print("| " + " | ".join(columns) + " |")
        print("|" + " --- |" * len(columns))
        print("\n".join(rows))


def bumps():
    if not os.path.isdir(a.bumps):
        return
    for width in ["library", "appendix_c"]:
        rows = []
        for model in ["rrae", "vae", "vrrae", "vrrae_trainable", "lorae"]:
            got = [(s, metrics(os.path.join(a.bumps, f"{width}-{model}-s{s}"))) for s in seeds]
            got = [(s, m) for s, m in got if m]
            if not got:
                continue
            cols = {"train": [], "test": [], "interp": [], "sampling": [], "wall": []}
            per_seed = []
            for s, m in got:
                x = m["metrics"]
                v = (x["train_error"], x["test_error"], x["interpolation_bump_fit"]["mean"],
                     x["sampling_bump_fit"]["mean"])
                for key, val in zip(["train", "test", "interp", "sampling"], v):
                    cols[key].append(val)
                cols["wall"].append(m["wall_seconds"])
                per_seed.append(f"s{s}: " + " / ".join(f"{t:.2f}" for t in v))
            k = got[0][1]["metrics"].get("latent_rank")
            rows.append(f"| {NAMES[model]} | `{LATENTS.get(model, model)}` | {len(got)} | {pm(cols['train'])} | "
                        f"{pm(cols['test'])} | {pm(cols['interp'])} | {pm(cols['sampling'])} | "
                        f"{k} | {'; '.join(per_seed)} | {st.mean(cols['wall']):.0f} |")
        table(f"Bumps, {width.replace('_', ' ')} widths",
              ["model", "latent", "seeds", "train %", "test %", "interpolation bump fit %",
               "sampling bump fit %", "latent rank (s0)",
               "per seed: train / test / interp. / sampling", "wall s (mean)"], rows)


def images():
    for ds in ["mnist", "fashion_mnist"]:
        rows = []
        runs = [(NAMES[m], os.path.join(a.images, ds, m)) for m in ["rrae", "vae", "vrrae", "lorae"]]
        # The same training, sampled from the fitted Gaussian instead of the prior.
        runs += [(f"{NAMES[m]}, `sample_prior = false`", os.path.join(a.fitted, f"{ds}-{m}"))
                 for m in ["vae", "vrrae"]]
        for name, run in runs:
            m = metrics(run)
            if not m:
                continue
            x = m["metrics"]
            f = lambda key: "—" if x.get(key) is None else f"{x[key]:.2f}"
            rows.append(f"| {name} | {m['latent_dim']} | {x.get('latent_rank')} | "
                        f"{x['test_error']:.2f} | {f('fid_reconstruction')} | {f('fid_interpolation')} | "
                        f"{f('fid_sampling')} | {f('fid_inception_interpolation')} | "
                        f"{f('fid_inception_sampling')} | {m['wall_seconds']:.0f} |")
        table("MNIST" if ds == "mnist" else "Fashion-MNIST",
              ["model", "L", "latent rank", "test %", "FID local recon.", "FID local interp.",
               "FID local sampling", "FID-Inception interp.", "FID-Inception sampling", "wall s"],
              rows)


bumps()
images()
