#!/usr/bin/env python3
"""Loads an rrae model.safetensors into the PyTorch reference model of bench/torch_rrae.py
and prints the loss and per-parameter gradient norms on the first `batch` training
samples, in the format of `cargo run -p rrae-report --example grad_dump`.

Weight layouts (model.safetensors metadata): linear [in, out]; conv [out, in*kh*kw];
conv_transpose [in, out*kh*kw]. Only the models/rrae.rrae architecture is mapped.
"""
import json
import struct
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
path = sys.argv[1]
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head = json.loads(raw[8:8 + n])
body = raw[8 + n:]
T = {}
for name, v in head.items():
    if name == "__metadata__":
        continue
    a, b = v["data_offsets"]
    dt = np.float32 if v["dtype"] == "F32" else np.float64
    T[name] = np.frombuffer(body[a:b], dtype=dt).reshape(v["shape"]).astype(np.float64)

G, N, SIG = 64, 20, 0.2
axis = np.linspace(-1, 1, G)
c1 = np.linspace(-0.5, 0.5, N)
cs = [[x, y] for x in c1 for y in c1]
xx, yy = np.meshgrid(axis, axis)
X = np.stack([np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2 * SIG**2)) for c in cs])
X = ((X - X.mean()) / X.std()).reshape(-1, 1, G, G)
x = torch.tensor(X[:int(sys.argv[2]) if len(sys.argv) > 2 else 64].astype(np.float32).astype(np.float64))

P = {}
def param(name, shape=None, transpose=False):
    t = torch.tensor(T[name])
    if transpose:
        t = t.T.contiguous()
    if shape is not None:
        t = t.reshape(shape)
    P[name] = t.requires_grad_(True)
    return P[name]

F = torch.nn.functional
h = x
for i, (cin, cout) in zip([0, 2, 4], [(1, 32), (32, 64), (64, 128)]):
    h = F.relu(F.conv2d(h, param(f"encoder.{i}.weight", (cout, cin, 3, 3)), param(f"encoder.{i}.bias"), 2, 1))
y = F.linear(h.flatten(1), param("encoder.7.weight", transpose=True), param("encoder.7.bias"))
u, s, vh = torch.linalg.svd(y.T, full_matrices=False)
uk = u[:, :2]
z = y @ uk @ uk.T
h = F.linear(z, param("decoder.9.weight", transpose=True), param("decoder.9.bias")).view(-1, 32, 8, 8)
for i, (cin, cout) in zip([11, 13, 15], [(32, 128), (128, 64), (64, 32)]):
    h = F.relu(F.conv_transpose2d(h, param(f"decoder.{i}.weight", (cin, cout, 3, 3)), param(f"decoder.{i}.bias"), 2, 1, 1))
pred = F.conv2d(h, param("decoder.17.weight", (1, 32, 1, 1)), param("decoder.17.bias"))
loss = 100 * torch.linalg.norm(pred - x) / torch.linalg.norm(x)
loss.backward()
print(f"loss {loss.item():.10f}")
for name, t in P.items():
    print(f"{name} {t.grad.norm().item():.8e}")
