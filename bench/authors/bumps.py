#!/usr/bin/env python3
"""The authors' own packages on the bumps of models/rrae.rrae, measured with rrae's own
metrics (bench/bumps_eval.py): `rraes` (their JAX/Equinox library, JadM133/RRAEs) and
`rraestorch` (their PyTorch port), both from PyPI.

Run it with bench/authors/run.sh, which installs each package into its own private
virtual environment under target/. It trains the package's `RRAE_CNN` through its
`RRAE_Trainor_class` (its optimiser, training loop, batching, SVD and common basis) on
rrae's 400 training bumps normalised as rrae normalises them, with the network of
models/rrae.rrae: encoder widths [32, 64, 128], decoder [128, 64, 32], L = 64, 879,425
parameters, the same count as rrae's and the PyTorch reference's (checked).

- `--recipe paper` (default): models/rrae.rrae's schedule: 2000 steps at lr 1e-3,
  batch 64, then 500 fine-tuning steps at 1e-4, batch 64.
- `--recipe library`: the package's own `fit` defaults, step_st = [3000, 3000] at lr 1e-3
  then 1e-4, batch 16, and main-CNN.py's fine-tuning (lr 1e-4, batch 20), 500 steps.
- `--model rrae`: k = 2 (the fixed tracker); `--model arrae`: the adaptive search,
  `RRAE_gen_Tracker(k_init=B, patience_init=50)` as main-adap-CNN.py sets it (k starts at
  the batch size B, the largest rank a batch has).
- `--time-only N`: time N training steps and exit (bench/compare_torch.sh's row).

The optimiser is each package's default: adabelief for `rraes`, Adam for `rraestorch`.
Prints and writes (--out) the metrics JSON that bench/seed_table.py reads, with the wall
time and the median of the step times the package itself prints (its `Time [s]`, every
10th step, the first 50 left out as compilation and warm-up; with --time-only, every step
after the first 3).
"""
import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bumps_eval  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--program", choices=["rraes", "rraestorch"], required=True)
p.add_argument("--model", choices=["rrae", "arrae"], default="rrae")
p.add_argument("--recipe", choices=["paper", "library"], default="paper")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--steps", type=int, nargs="+", default=None,
               help="the training stages' steps (paper: 2000; library: 3000 3000)")
p.add_argument("--fine-tune-steps", type=int, default=500)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--time-only", type=int, default=0, metavar="N")
p.add_argument("--out", default=None)
a = p.parse_args()

G = bumps_eval.G
if a.recipe == "paper":
    steps, lrs, batches = a.steps or [2000], [1e-3], [64]
    ft = {"batch_size_st": [64], "lr_st": [1e-4]}
else:
    steps, lrs, batches = a.steps or [3000, 3000], [1e-3, 1e-4], [16, 16]
    ft = {"batch_size_st": [20], "lr_st": [1e-4, 1e-6, 1e-7, 1e-8]}
# Steps left out of the timing: compilation and warm-up (3 when only timing, as rrae bench).
warm = 3 if a.time_only else 50
if a.time_only:
    steps, a.fine_tune_steps = [a.time_only + warm], 0
k = 2 if a.model == "rrae" else batches[0]
rng = np.random.default_rng(a.seed)
test_c, Xte = bumps_eval.test_set(rng)
xn = bumps_eval.norm(bumps_eval.Xtr).astype(np.float32)  # (N, 1, G, G)
common = dict(latent_size=64, height=G, width=G, channels=1, k_max=k,
              folder=tempfile.mkdtemp(prefix=a.program + "-") + "/", file="model.pkl",
              norm_in="None", norm_out="None",
              kwargs_enc={"width_CNNs": [32, 64, 128]}, kwargs_dec={"width_CNNs": [128, 64, 32]},
              adap_type="gen" if a.model == "arrae" else "None")

if a.program == "rraes":
    # XLA runs on its own thread pool over every core; --threads applies to rraestorch.
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jax.random as jrandom
    import RRAEs.config  # noqa: F401
    from RRAEs.AE_classes import RRAE_CNN
    from RRAEs.trackers import RRAE_gen_Tracker
    from RRAEs.training_classes import RRAE_Trainor_class
    # The library's layout: (channels, height, width, samples).
    to_lib = lambda x: jnp.asarray(np.moveaxis(np.asarray(x, np.float32).reshape(-1, 1, G, G), 0, -1))
    x_train = to_lib(xn)
    trainor = RRAE_Trainor_class(x_train, RRAE_CNN, out_train=x_train,
                                 key=jrandom.PRNGKey(a.seed), **common)
    params = sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(trainor.model, eqx.is_inexact_array)))
    fit = lambda tk, fk: trainor.fit(x_train, x_train, training_key=jrandom.PRNGKey(a.seed),
                                     training_kwargs=tk, ft_kwargs=fk)
    encode = lambda x: np.asarray(trainor.model.latent(to_lib(x))).T  # no k_max: untruncated
    decode = lambda z: np.moveaxis(np.asarray(trainor.model.decode(
        jnp.asarray(np.asarray(z, np.float32).T))), -1, 0).reshape(len(z), -1)
    basis = lambda: np.asarray(trainor.basis)
    versions = {"rraes": __import__("importlib.metadata").metadata.version("rraes"), "jax": jax.__version__}
else:
    import torch
    import RRAEsTorch.config  # noqa: F401
    from RRAEsTorch.AE_classes import RRAE_CNN
    from RRAEsTorch.trackers import RRAE_gen_Tracker
    from RRAEsTorch.training_classes import RRAE_Trainor_class
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)  # the port's dataloader draws its batches from numpy's global stream
    torch.set_num_threads(a.threads)
    # The port's layout: (samples, channels, height, width).
    x_train = torch.tensor(xn)
    trainor = RRAE_Trainor_class(x_train, RRAE_CNN, out_train=x_train, **common)
    params = sum(q.numel() for q in trainor.model.parameters())
    fit = lambda tk, fk: trainor.fit(x_train, x_train, training_kwargs=tk, ft_kwargs=fk)

    def encode(x):
        with torch.no_grad():
            return trainor.model.latent(torch.tensor(np.asarray(x, np.float32).reshape(-1, 1, G, G))).numpy()

    def decode(z):
        with torch.no_grad():
            return trainor.model.decode(torch.tensor(np.asarray(z, np.float32))).numpy().reshape(len(z), -1)

    basis = lambda: trainor.basis.detach().numpy()
    versions = {"rraestorch": __import__("importlib.metadata").metadata.version("rraestorch"),
                "torch": torch.__version__}

if params != 879425:
    sys.exit(f"the network has {params} parameters, not models/rrae.rrae's 879425")
training_kwargs = {"step_st": steps, "lr_st": lrs, "batch_size_st": batches,
                   "loss_type": "RRAE", "print_every": 1 if a.time_only else 10}
if a.model == "arrae":
    training_kwargs["tracker"] = RRAE_gen_Tracker(k_init=k, patience_init=50)
ft_kwargs = {"step_st": [a.fine_tune_steps], "print_every": 10, **ft} if a.fine_tune_steps else {}
t0 = time.time()
log = io.StringIO()
with contextlib.redirect_stdout(log):
    fit(training_kwargs, ft_kwargs)
wall = time.time() - t0
# The package's own per-step times of the training stage (the lines before fine-tuning).
train_log = log.getvalue().split("Fine tuning the basis")[0]
times = [float(t) for b, t in re.findall(r"Batch: (\d+),.*?Time \[s\]: ([0-9.e-]+)", train_log)
         if int(b) >= warm]
m = {"median_ms_per_step": 1e3 * float(np.median(times)) if times else None,
     "timed_steps": len(times), "batch": batches[0], "params": int(params), "threads": a.threads}
if not a.time_only:
    m.update(bumps_eval.evaluate(encode, decode, basis(), rng, test_c, Xte))
    m["k"] = int(trainor.track_params["k_max"])
m.update(program=a.program, model=a.model, recipe=a.recipe, seed=a.seed, wall_seconds=wall,
         steps=steps, fine_tune_steps=a.fine_tune_steps, **versions)
print(json.dumps(m, indent=2))
if a.out:
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(m, f, indent=2)
    os.replace(tmp, a.out)
