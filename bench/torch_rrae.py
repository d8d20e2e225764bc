#!/usr/bin/env python3
"""A faithful PyTorch implementation of models/rrae.rrae and of rrae's evaluation.

The reference side of docs/results.md: the paper's RRAE on 64x64 Gaussian bumps (L = 64,
k = 2, 2000 steps + 500 fine-tune steps, batch 64, lr 1e-3, Adam), evaluated with exactly
the definitions `rrae run` uses (src: runtime/reporting/src/eval.rs):
- train/test error: 100 * ||X_hat - X||_F / ||X||_F over the whole set, original units;
- interpolation: random training pairs, 5 points linear in the bottleneck coefficients,
  against the true bump at the linearly interpolated centre; and each interpolated image
  against its best-fitting bump (mean, std, median over images);
- random sampling: 250 samples from N(mean, cov) of the training coefficients, each
  against its best-fitting bump;
- parametric test error: test latents bilinear over the training centre grid, decoded
  (the authors' AE_interpolate).

Run it with bench/torch_rrae.sh, which makes a private virtual environment.
"""
import argparse
import json
import math
import time

import numpy as np
import torch

import bumps_eval
from torch_bumps import PAIRS, RRAE, load_rrae, read_safetensors, rel, tr, truncate

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--fine-tune-steps", type=int, default=500)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--fine-tune-lr", type=float, default=1e-4,
               help="the decoder fine-tuning's learning rate (models/rrae.rrae: fine_tune_lr = 1e-4)")
p.add_argument("--latent", type=int, default=64)
p.add_argument("--k", type=int, default=2)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--optimizer", default="adam", choices=["adam", "adabelief"])
p.add_argument("--schedule", default="constant", choices=["constant", "cosine"],
               help="cosine: lr(t) = lr (1 + cos(pi t / steps)) / 2 in each phase, as rrae's cosine()")
p.add_argument("--out", default=None)
p.add_argument("--export", default=None, metavar="DIR",
               help="write this seed's PyTorch initialisation in rrae's layout "
                    "(DIR/torch-init.safetensors, from the template DIR/model.safetensors that "
                    "`rrae run --steps 0` wrote) and its batch order (DIR/torch-batches.json), "
                    "for RRAE_INIT and RRAE_BATCH_ORDER, then exit")
p.add_argument("--replay", default=None, metavar="DIR",
               help="start from rrae's initial weights (DIR/model.safetensors, from `rrae run "
                    "--steps 0 --fine-tune-steps 0 --seed S`) and draw rrae's batches "
                    "(DIR/batches.json, from the batch_order example) instead of PyTorch's")
a = p.parse_args()
torch.manual_seed(a.seed)
torch.set_num_threads(a.threads)
rng = np.random.default_rng(a.seed)

test_c, Xte = bumps_eval.test_set(rng)


class AdaBelief(torch.optim.Optimizer):
    """optax.adabelief (eps = eps_root = 1e-16), the authors' default."""

    def __init__(self, params, lr):
        super().__init__(params, dict(lr=lr))
        self.t = 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state.setdefault(p, {"m": torch.zeros_like(p), "s": torch.zeros_like(p)})
                st["m"].mul_(0.9).add_(p.grad, alpha=0.1)
                e = p.grad - st["m"]
                st["s"].mul_(0.999).addcmul_(e, e, value=0.001).add_(1e-16)
                mh = st["m"] / (1 - 0.9**self.t)
                sh = st["s"] / (1 - 0.999**self.t)
                p.sub_(g["lr"] * mh / (sh.sqrt() + 1e-16))


def set_lr(opt, step, total, base):
    if a.schedule == "cosine":
        for g in opt.param_groups:
            g["lr"] = 0.5 * base * (1 + math.cos(math.pi * step / max(total, 1)))


def optimizer(params, lr):
    return torch.optim.Adam(params, lr=lr) if a.optimizer == "adam" else AdaBelief(params, lr)


def batches(n, b, gen):
    while True:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n - b + 1, b):
            yield perm[i:i + b]


def export_torch(model, d):
    """This model's weights written into rrae's layout (the template's header kept: same
    names, shapes and offsets), and PyTorch's batch order for this seed."""
    prefix, head, body = read_safetensors(d + "/model.safetensors")
    body = bytearray(body)
    mods = dict(model.named_modules())
    for mine, theirs, transpose in PAIRS:
        for part in ("weight", "bias"):
            v = head[f"{theirs}.{part}"]
            t = getattr(mods[mine], part).detach().numpy()
            t = t.reshape(v["shape"][::-1]).T if (transpose and part == "weight") else t
            arr = np.ascontiguousarray(t, dtype=np.float32).reshape(v["shape"])
            lo, hi = v["data_offsets"]
            assert hi - lo == arr.nbytes, (theirs, part)
            body[lo:hi] = arr.tobytes()
    with open(d + "/torch-init.safetensors", "wb") as f:
        f.write(prefix + bytes(body))
    draw = lambda seed, count: [b.tolist() for b, _ in zip(
        batches(len(tr), a.batch, torch.Generator().manual_seed(seed)), range(count))]
    with open(d + "/torch-batches.json", "w") as f:
        json.dump({"train": draw(a.seed, a.steps), "fine_tune": draw(a.seed + 1, a.fine_tune_steps)}, f)


model = RRAE(a.latent)
if a.export:
    export_torch(model, a.export)
    raise SystemExit(0)
if a.replay:
    load_rrae(model, a.replay + "/model.safetensors")
    order = json.load(open(a.replay + "/batches.json"))
    it = iter(torch.tensor(b) for b in order["train"])
else:
    it = batches(len(tr), a.batch, torch.Generator().manual_seed(a.seed))
opt = optimizer(model.parameters(), a.lr)
t0 = time.time()
times = []
losses = []
for step in range(a.steps):
    ts = time.time()
    x = tr[next(it)]
    z, _ = truncate(model.enc(x), a.k)
    loss = rel(model.decode(z), x)
    opt.zero_grad()
    loss.backward()
    set_lr(opt, step, a.steps, a.lr)
    opt.step()
    times.append(time.time() - ts)
    losses.append(loss.item())
    if a.replay and step < 3:
        print(f"replay step {step}: loss {loss.item():.6f}", flush=True)
train_loss = loss.item()

with torch.no_grad():
    y = model.enc(tr)
    bases = [truncate(y[i:i + a.batch], a.k)[1] for i in range(0, len(tr), a.batch)]
    uf = torch.linalg.svd(torch.cat(bases, 1), full_matrices=False)[0][:, :a.k]
    P = uf @ uf.T
    zall = y @ P
for prm in model.enc.parameters():
    prm.requires_grad_(False)
opt = optimizer(list(model.lin.parameters()) + list(model.dec.parameters()), a.fine_tune_lr)
if a.replay:
    it = iter(torch.tensor(b) for b in order["fine_tune"])
else:
    it = batches(len(tr), a.batch, torch.Generator().manual_seed(a.seed + 1))
for step in range(a.fine_tune_steps):
    idx = next(it)
    loss = rel(model.decode(zall[idx]), tr[idx])
    opt.zero_grad()
    loss.backward()
    set_lr(opt, step, a.fine_tune_steps, a.fine_tune_lr)
    opt.step()
wall = time.time() - t0

with torch.no_grad():
    encode = lambda x: model.enc(torch.tensor(x, dtype=torch.float32).reshape(-1, 1, 64, 64)).numpy()
    decode = lambda z: model.decode(torch.tensor(z, dtype=torch.float32)).numpy()
    m = bumps_eval.evaluate(encode, decode, uf.numpy(), rng, test_c, Xte)
m.update(seed=a.seed, optimizer=a.optimizer, schedule=a.schedule, replay=a.replay, wall_seconds=wall, final_train_loss=train_loss,
         median_ms_per_step=1e3 * float(np.median(times)), train_losses=losses, threads=a.threads, torch=torch.__version__)
print(json.dumps(m, indent=2))
if a.out:
    with open(a.out, "w") as f:
        json.dump(m, f, indent=2)
