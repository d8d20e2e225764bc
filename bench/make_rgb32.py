#!/usr/bin/env python3
"""Writes target/bench/rgb32.npy: 1024 smooth random colour images [3, 32, 32] (three
Gaussian blobs of random colour each), the data of bench/models/rgb32.rrae."""
import os

import numpy as np

rng = np.random.default_rng(0)
n, size = 1024, 32
g = np.linspace(-1, 1, size)
yy, xx = np.meshgrid(g, g, indexing="ij")
images = np.zeros((n, 3, size, size), dtype=np.float32)
for i in range(n):
    for _ in range(3):
        cy, cx = rng.uniform(-0.7, 0.7, 2)
        s = rng.uniform(0.15, 0.4)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
        images[i] += rng.uniform(0, 1, 3)[:, None, None] * blob
os.makedirs("target/bench", exist_ok=True)
np.save("target/bench/rgb32.npy", images)
print(f"wrote target/bench/rgb32.npy: {images.shape}")
