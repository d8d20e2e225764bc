#!/usr/bin/env python3
"""Loads an rrae model.safetensors into the PyTorch reference network of
bench/torch_bumps.py and prints the loss and per-parameter gradient norms, in f64, on the
first `batch` training samples, in the format of
`cargo run -p rrae-report --example grad_dump`.

    python bench/torch_grad_check.py MODEL.safetensors [batch]

Only the models/rrae.rrae architecture is mapped (torch_bumps.PAIRS).
"""
import sys

import torch

from torch_bumps import PAIRS, RRAE, load_rrae, read_safetensors, rel, tr, truncate

path = sys.argv[1]
model = RRAE(read_safetensors(path)[1]["encoder.7.weight"]["shape"][1])
load_rrae(model, path)
model = model.double()
x = tr[:int(sys.argv[2]) if len(sys.argv) > 2 else 64].double()
z, _ = truncate(model.enc(x), 2)
loss = rel(model.decode(z), x)
loss.backward()
print(f"loss {loss.item():.10f}")
mods = dict(model.named_modules())
for mine, theirs, _ in PAIRS:
    for part in ("weight", "bias"):
        print(f"{theirs}.{part} {getattr(mods[mine], part).grad.norm().item():.8e}")
