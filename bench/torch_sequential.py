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

src = open(__file__.replace("torch_sequential.py", "torch_grad_check.py")).read()
head = src.split("P = {}")[0].replace("torch.set_default_dtype(torch.float64)", "")
exec(head)
torch.set_num_threads(2)
X32 = torch.tensor(X.astype(np.float32))
F = torch.nn.functional


def t(name, shape=None, tr=False):
    a = torch.tensor(T[name], dtype=torch.float32)
    if tr:
        a = a.T.contiguous()
    if shape:
        a = a.reshape(shape)
    return a.requires_grad_(True)


P = {}
for i, (ci, co) in zip([0, 2, 4], [(1, 32), (32, 64), (64, 128)]):
    P[f"e{i}w"], P[f"e{i}b"] = t(f"encoder.{i}.weight", (co, ci, 3, 3)), t(f"encoder.{i}.bias")
P["e7w"], P["e7b"] = t("encoder.7.weight", tr=True), t("encoder.7.bias")
P["d9w"], P["d9b"] = t("decoder.9.weight", tr=True), t("decoder.9.bias")
for i, (ci, co) in zip([11, 13, 15], [(32, 128), (128, 64), (64, 32)]):
    P[f"d{i}w"], P[f"d{i}b"] = t(f"decoder.{i}.weight", (ci, co, 3, 3)), t(f"decoder.{i}.bias")
P["d17w"], P["d17b"] = t("decoder.17.weight", (1, 32, 1, 1)), t("decoder.17.bias")


def fwd(x):
    h = x
    for i in [0, 2, 4]:
        h = F.relu(F.conv2d(h, P[f"e{i}w"], P[f"e{i}b"], 2, 1))
    y = F.linear(h.flatten(1), P["e7w"], P["e7b"])
    u, s, vh = torch.linalg.svd(y.T, full_matrices=False)
    uk = u[:, :2]
    h = F.linear(y @ uk @ uk.T, P["d9w"], P["d9b"]).view(-1, 32, 8, 8)
    for i in [11, 13, 15]:
        h = F.relu(F.conv_transpose2d(h, P[f"d{i}w"], P[f"d{i}b"], 2, 1, 1))
    return F.conv2d(h, P["d17w"], P["d17b"])


opt = torch.optim.Adam(P.values(), lr=1e-3)
steps = int(sys.argv[2])
for step in range(steps):
    b = step % 6
    x = X32[64 * b:64 * (b + 1)]
    loss = 100 * torch.linalg.norm(fwd(x) - x) / torch.linalg.norm(x)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 25 == 0 or step == steps - 1:
        print(step, round(loss.item(), 3))
