"""Writes the authors' 1-D parametric problems as .npy files for rrae.

The formulas are those of `get_data` in the authors' RRAEs library:

- ``mult_freqs``: x(t) = sin(p0 t) + sin(p1 t) on t = 0, 0.01, ..., < 5 pi (1571 points),
  training parameters on a 15 x 15 grid, p0 in [pi/2, pi], p1 in [0.3 pi, 0.8 pi]; 1000 test
  parameters drawn uniformly inside the grid (seeded; the library draws them with JAX keys,
  so the test points differ from theirs, not their distribution).
- ``shift``: x(t) = sin(t - s pi) on 200 points of [0, 2 pi], s = 0, 0.45, 0.9, 1.35 for
  training and the 498 interior points of linspace(0, 1.35, 500) for testing.

Each problem gets four arrays: samples [N, 1, T] (float32; one channel, for conv1d) and
parameters [N, P] (float64), for the training and the test set.

Usage: python3 make_data.py [OUT_DIR]   (default: data/ beside this script). Needs numpy.
"""

import os
import sys

import numpy as np


def mult_freqs():
    ts = np.arange(0, 5 * np.pi, 0.01)
    p0 = np.repeat(np.linspace(0.5 * np.pi, np.pi, 15), 15)
    p1 = np.tile(np.linspace(0.3 * np.pi, 0.8 * np.pi, 15), 15)
    p_train = np.stack([p0, p1], axis=-1)
    rng = np.random.default_rng(140)
    p_test = np.stack(
        [
            rng.uniform(p0[0] * 1.001, p0[-1] * 0.999, 1000),
            rng.uniform(p1[0] * 1.001, p1[-1] * 0.999, 1000),
        ],
        axis=-1,
    )

    def signal(p):
        return np.sin(p[:, :1] * ts) + np.sin(p[:, 1:] * ts)

    return signal(p_train), signal(p_test), p_train, p_test


def shift():
    ts = np.linspace(0, 2 * np.pi, 200)
    p_train = np.linspace(0, 1.8, 5)[:-1]
    p_test = np.linspace(0, p_train.max(), 500)[1:-1]

    def signal(p):
        return np.sin(ts - p[:, None] * np.pi)

    return signal(p_train), signal(p_test), p_train[:, None], p_test[:, None]


def save(path, array):
    """Writes atomically: a crash leaves the old file or none, never half of one."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data")
    os.makedirs(out, exist_ok=True)
    for name, make in [("mult_freqs", mult_freqs), ("shift", shift)]:
        x_train, x_test, p_train, p_test = make()
        save(os.path.join(out, f"{name}_train.npy"), x_train[:, None, :].astype(np.float32))
        save(os.path.join(out, f"{name}_test.npy"), x_test[:, None, :].astype(np.float32))
        save(os.path.join(out, f"{name}_params_train.npy"), p_train.astype(np.float64))
        save(os.path.join(out, f"{name}_params_test.npy"), p_test.astype(np.float64))
        print(f"{name}: {len(x_train)} training and {len(x_test)} test samples of "
              f"{x_train.shape[-1]} points, {p_train.shape[-1]} parameter(s) -> {out}")


if __name__ == "__main__":
    main()
