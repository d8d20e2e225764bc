#!/usr/bin/env python3
"""Replays an rrae training run in PyTorch from the same initial weights and the same
batches (rrae with RRAE_SEQUENTIAL_BATCHES=1 takes samples in file order, 64 at a time,
dropping the last partial batch) and prints the loss every 25 steps.

  rrae run models/rrae.rrae --steps 0 --fine-tune-steps 0 --out /tmp/init
  RRAE_SEQUENTIAL_BATCHES=1 rrae run models/rrae.rrae --steps 200 --fine-tune-steps 0 --out /tmp/seq
  python bench/torch_sequential.py /tmp/init/model.safetensors 200
"""
import sys

import torch

from torch_bumps import RRAE, load_rrae, read_safetensors, rel, tr, truncate

torch.set_num_threads(2)
path = sys.argv[1]
model = RRAE(read_safetensors(path)[1]["encoder.7.weight"]["shape"][1])
load_rrae(model, path)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
steps = int(sys.argv[2])
for step in range(steps):
    b = step % 6
    x = tr[64 * b:64 * (b + 1)]
    z, _ = truncate(model.enc(x), 2)
    loss = rel(model.decode(z), x)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 25 == 0 or step == steps - 1:
        print(step, round(loss.item(), 3))
