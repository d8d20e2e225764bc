#!/usr/bin/env python3
"""Times one step of the paper's CNN RRAE in PyTorch, for bench/compare_torch.sh.

The model is the one `rrae check` prints for the stdlib's cnn_encoder / cnn_decoder
(stdlib/cnn.rrae): 3x3 stride-2 convolutions of the encoder widths, linear to L; linear
to channels x D0 x D0, 3x3 stride-2 transposed convolutions (output padding 1) of the
decoder widths, a final convolution of kernel 1 + D - H. What is timed is what
`rrae bench --phase` times:
  train      forward, truncated SVD of the latent batch, relative L2 loss, backward, Adam;
  fine-tune  the decoder on fixed projected latents (encoder frozen), loss, backward, Adam;
  inference  encode, project on a rank-k basis, decode, under torch.no_grad().
Prints one JSON line: median/min/max ms over the timed steps.
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
p.add_argument("--in-ch", type=int, default=1, help="input channels")
p.add_argument("--batch", type=int, default=64)
p.add_argument("--latent", type=int, default=64)
p.add_argument("--k", type=int, default=2)
p.add_argument("--enc-widths", default="32,64,128")
p.add_argument("--dec-widths", default="128,64,32")
p.add_argument("--channels", type=int, default=32, help="channels of the decoder's start")
p.add_argument("--phase", choices=["train", "fine-tune", "inference"], default="train")
p.add_argument("--steps", type=int, default=20)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--device", default="cpu", help="cpu or cuda (each step ends with a synchronise)")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
enc_w = [int(w) for w in a.enc_widths.split(",")]
dec_w = [int(w) for w in a.dec_widths.split(",")]

# Encoder output side: stride-2 convolutions with padding 1.
e = a.size
for _ in enc_w:
    e = (e + 2 - 3) // 2 + 1
# Decoder start: the smallest d0 that the transposed convolutions grow to >= size.
grow = 2 ** len(dec_w)
d0 = 1
while d0 * grow < a.size:
    d0 += 1
last = 1 + d0 * grow - a.size

layers, c = [], a.in_ch
for w in enc_w:
    layers += [nn.Conv2d(c, w, 3, 2, 1), nn.ReLU()]
    c = w
enc = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * e * e, a.latent))
lin = nn.Linear(a.latent, a.channels * d0 * d0)
layers, c = [], a.channels
for w in dec_w:
    layers += [nn.ConvTranspose2d(c, w, 3, 2, 1, 1), nn.ReLU()]
    c = w
dec = nn.Sequential(*layers, nn.Conv2d(c, a.in_ch, last))
dev = torch.device(a.device)
for m in (enc, lin, dec):
    m.to(dev)
params = list(enc.parameters()) + list(lin.parameters()) + list(dec.parameters())
x = torch.randn(a.batch, a.in_ch, a.size, a.size, device=dev)


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


def decode(z):
    return dec(lin(z).view(-1, a.channels, d0, d0))


if a.phase == "train":
    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        y = enc(x)
        u, s, vh = torch.linalg.svd(y.T, full_matrices=False)
        uk = u[:, : a.k]
        out = decode(y @ uk @ uk.T)
        loss = torch.linalg.norm(out - x) / torch.linalg.norm(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
else:
    with torch.no_grad():
        y = enc(x)
        uk = torch.linalg.svd(y.T, full_matrices=False)[0][:, : a.k]
        proj = uk @ uk.T
        z = y @ proj
    if a.phase == "fine-tune":
        for q in enc.parameters():
            q.requires_grad_(False)
        opt = torch.optim.Adam(list(lin.parameters()) + list(dec.parameters()), lr=1e-3)

        def step():
            out = decode(z)
            loss = torch.linalg.norm(out - x) / torch.linalg.norm(x)
            opt.zero_grad()
            loss.backward()
            opt.step()
    else:
        def step():
            with torch.no_grad():
                return decode(enc(x) @ proj)


times = []
for i in range(a.warmup + a.steps):
    t = time.perf_counter()
    step()
    sync()
    if i >= a.warmup:
        times.append(1e3 * (time.perf_counter() - t))
n = sum(p.numel() for p in params)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
gpu = None
if dev.type == "cuda":
    # What the caching allocator holds at its peak: the counterpart of rrae's pool.
    gpu = torch.cuda.max_memory_reserved() / 2**20
print(json.dumps(dict(params=n, median_ms=statistics.median(times), min_ms=min(times),
                      max_ms=max(times), steps=a.steps, threads=a.threads, peak_rss_mib=peak,
                      phase=a.phase, torch=torch.__version__, device=a.device, gpu_mib=gpu)))
