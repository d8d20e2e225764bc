#!/usr/bin/env python3
"""The authors' own packages on the 1-D signals of examples/signals (their `get_data`
problems `shift` and `mult_freqs`, written by examples/signals/make_data.py), measured with
rrae's metrics: train and test error (each test signal encoded), and the parametric test
error (each test signal predicted from its parameters alone: the latent projected on the
common basis, interpolated multilinearly between the training samples of the parameter
grid around it, then decoded: rrae's `test_error_parametric` and the authors'
`AE_interpolate`). Errors are 100 ||X_hat - X||_F / ||X||_F over the whole set.

The recipe is the authors' main-MLP.py: `RRAE_MLP` with latent size 200, an encoder of one
300-unit layer and a decoder of six, batch 64, no normalisation, its rate stages 1e-3, 1e-4,
1e-5 of `--stage-steps` steps each (its comment: "increase this to train well (e.g. 2000)"),
then fine-tuning of the decoder at 1e-3 for `--fine-tune-steps`, k = 1 for shift and 2 for
mult_freqs (the number of parameters). `--program rraes|rraestorch` as bench/authors/bumps.py.
"""
import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--program", choices=["rraes", "rraestorch"], required=True)
p.add_argument("--problem", choices=["shift", "mult_freqs"], default="mult_freqs")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--stage-steps", type=int, default=2000)
p.add_argument("--fine-tune-steps", type=int, default=500)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--out", default=None)
a = p.parse_args()

data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "signals", "data")
load = lambda n: np.load(os.path.join(data, f"{a.problem}_{n}.npy"))
Xtr, Xte = load("train")[:, 0, :], load("test")[:, 0, :]  # (N, T)
Ptr, Pte = load("params_train"), load("params_test")
k = Ptr.shape[1]


def grid_weights(ptr, pte):
    """Multilinear interpolation weights of each test parameter over the training grid:
    (indices, weights) per test point, 2^d corners each."""
    axes = [np.unique(ptr[:, j]) for j in range(ptr.shape[1])]
    index = {tuple(np.searchsorted(axes[j], row[j]) for j in range(len(axes))): i
             for i, row in enumerate(ptr)}
    out = []
    for q in pte:
        lo, t = [], []
        for j, ax in enumerate(axes):
            c = int(np.clip(np.searchsorted(ax, q[j]) - 1, 0, len(ax) - 2))
            lo.append(c)
            t.append((q[j] - ax[c]) / (ax[c + 1] - ax[c]))
        idx, w = [], []
        for corner in range(2 ** len(axes)):
            bits = [(corner >> j) & 1 for j in range(len(axes))]
            idx.append(index[tuple(lo[j] + bits[j] for j in range(len(axes)))])
            w.append(np.prod([t[j] if bits[j] else 1 - t[j] for j in range(len(axes))]))
        out.append((idx, w))
    return out


lr_st = [1e-3, 1e-4, 1e-5]
training_kwargs = {"step_st": [a.stage_steps] * 3, "batch_size_st": [64] * 3, "lr_st": lr_st,
                   "loss_type": "RRAE", "print_every": 100}
ft_kwargs = {"step_st": [a.fine_tune_steps], "batch_size_st": [64], "lr_st": [1e-3],
             "print_every": 100}
common = dict(latent_size=200, in_size=Xtr.shape[1], k_max=k,
              folder=tempfile.mkdtemp(prefix=a.program + "-") + "/", file="model.pkl",
              norm_in="None", norm_out="None",
              kwargs_enc={"width_size": 300, "depth": 1}, kwargs_dec={"width_size": 300, "depth": 6})
if a.program == "rraes":
    import jax
    import jax.numpy as jnp
    import jax.random as jrandom
    import RRAEs.config  # noqa: F401
    from RRAEs.AE_classes import RRAE_MLP
    from RRAEs.training_classes import RRAE_Trainor_class
    x = jnp.asarray(Xtr.T, dtype=jnp.float32)  # the library's layout: (T, samples)
    trainor = RRAE_Trainor_class(x, RRAE_MLP, out_train=x, key=jrandom.PRNGKey(a.seed), **common)
    fit = lambda: trainor.fit(x, x, training_key=jrandom.PRNGKey(a.seed),
                              training_kwargs=training_kwargs, ft_kwargs=ft_kwargs)
    encode = lambda X: np.asarray(trainor.model.latent(jnp.asarray(X.T, dtype=jnp.float32))).T
    decode = lambda Z: np.asarray(trainor.model.decode(jnp.asarray(np.asarray(Z, np.float32).T))).T
    basis = lambda: np.asarray(trainor.basis)
    versions = {"rraes": __import__("importlib.metadata").metadata.version("rraes"), "jax": jax.__version__}
else:
    import torch
    import RRAEsTorch.config  # noqa: F401
    from RRAEsTorch.AE_classes import RRAE_MLP
    from RRAEsTorch.training_classes import RRAE_Trainor_class
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    torch.set_num_threads(a.threads)
    x = torch.tensor(Xtr, dtype=torch.float32)  # the port's layout: (samples, T)
    trainor = RRAE_Trainor_class(x, RRAE_MLP, out_train=x, **common)
    fit = lambda: trainor.fit(x, x, training_kwargs=training_kwargs, ft_kwargs=ft_kwargs)

    def encode(X):
        with torch.no_grad():
            return trainor.model.latent(torch.tensor(X, dtype=torch.float32)).numpy()

    def decode(Z):
        with torch.no_grad():
            return trainor.model.decode(torch.tensor(np.asarray(Z, np.float32))).numpy()

    basis = lambda: trainor.basis.detach().numpy()
    versions = {"rraestorch": __import__("importlib.metadata").metadata.version("rraestorch"),
                "torch": torch.__version__}

t0 = time.time()
with contextlib.redirect_stdout(io.StringIO()):
    fit()
wall = time.time() - t0
uf = basis()
P = uf @ uf.T
rel = lambda pred, truth: float(100 * np.linalg.norm(pred - truth) / np.linalg.norm(truth))
ztr = encode(Xtr) @ P
zte = np.array([sum(w * ztr[i] for i, w in zip(idx, ws)) for idx, ws in grid_weights(Ptr, Pte)])
m = {
    "train_error": rel(decode(ztr), Xtr),
    "test_error": rel(decode(encode(Xte) @ P), Xte),
    "test_error_parametric": rel(decode(zte), Xte),
    "k": int(uf.shape[1]),
    "program": a.program, "problem": a.problem, "seed": a.seed, "wall_seconds": wall,
    "stage_steps": a.stage_steps, "fine_tune_steps": a.fine_tune_steps, **versions,
}
print(json.dumps(m, indent=2))
if a.out:
    with open(a.out + ".tmp", "w") as f:
        json.dump(m, f, indent=2)
    os.replace(a.out + ".tmp", a.out)
