#!/usr/bin/env python3
"""Times one training step of the paper's CNN RRAE in PyTorch, for bench/compare_torch.sh.

The model is exactly the one `rrae check` prints for models/rrae.rrae and examples/mnist.rrae
(stdlib/cnn.rrae: three 3x3 stride-2 convolutions, linear to L; linear, three 3x3 stride-2
transposed convolutions with output padding 1, a final convolution of kernel 1 + D - H).
A step is what `rrae bench` times: forward, truncated SVD of the latent batch, relative L2
loss, backward, Adam. Prints one JSON line: median/min/max ms over the timed steps.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--size", type=int, default=64, help="input height = width")
p.add_argument("--batch", type=int, default=64)
p.add_argument("--latent", type=int, default=64)
p.add_argument("--k", type=int, default=2)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

# Encoder output side: three stride-2 convolutions with padding 1.
e = a.size
for _ in range(3):
    e = (e + 2 - 3) // 2 + 1
# Decoder start: the smallest d0 that three transposed convolutions grow to >= size.
d0 = 1
while d0 * 8 < a.size:
    d0 += 1
last = 1 + d0 * 8 - a.size

enc = nn.Sequential(
    nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(),
    nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
    nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU(),
    nn.Flatten(), nn.Linear(128 * e * e, a.latent))
lin = nn.Linear(a.latent, 32 * d0 * d0)
dec = nn.Sequential(
    nn.ConvTranspose2d(32, 128, 3, 2, 1, 1), nn.ReLU(),
    nn.ConvTranspose2d(128, 64, 3, 2, 1, 1), nn.ReLU(),
    nn.ConvTranspose2d(64, 32, 3, 2, 1, 1), nn.ReLU(),
    nn.Conv2d(32, 1, last))
params = list(enc.parameters()) + list(lin.parameters()) + list(dec.parameters())
opt = torch.optim.Adam(params, lr=1e-3)
x = torch.randn(a.batch, 1, a.size, a.size)


def step():
    y = enc(x)
    u, s, vh = torch.linalg.svd(y.T, full_matrices=False)
    uk = u[:, : a.k]
    z = y @ uk @ uk.T
    out = dec(lin(z).view(-1, 32, d0, d0))
    loss = torch.linalg.norm(out - x) / torch.linalg.norm(x)
    opt.zero_grad()
    loss.backward()
    opt.step()


times = []
for i in range(a.warmup + a.steps):
    t = time.perf_counter()
    step()
    if i >= a.warmup:
        times.append(1e3 * (time.perf_counter() - t))
n = sum(p.numel() for p in params)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
print(json.dumps(dict(params=n, median_ms=statistics.median(times), min_ms=min(times),
                      max_ms=max(times), steps=a.steps, threads=a.threads, peak_rss_mib=peak,
                      torch=torch.__version__)))
