"""The PyTorch side's bumps data and RRAE network, shared by the reference scripts.

One home for what `bench/torch_rrae.py` (the trained reference) and `bench/init_draws.py`
(the statistics of initial draws) both need: the 400 training bumps of models/rrae.rrae
normalised as rrae does (from bumps_eval.py, numpy only), the network at the authors' library widths, the rank-k
truncation, and the reading of rrae's `model.safetensors` into that network.
"""
import json
import struct

import numpy as np
import torch
import torch.nn as nn

from bumps_eval import G, N, Xtr, norm, render, train_c  # noqa: F401 (re-exported)

tr = torch.tensor(norm(Xtr), dtype=torch.float32)


class RRAE(nn.Module):
    def __init__(self, L):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(128 * 8 * 8, L))
        self.lin = nn.Linear(L, 32 * 8 * 8)
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(32, 128, 3, 2, 1, 1), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 3, 2, 1, 1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, 2, 1, 1), nn.ReLU(),
            nn.Conv2d(32, 1, 1))

    def decode(self, z):
        return self.dec(self.lin(z).view(-1, 32, 8, 8))


def truncate(y, k):
    """Y (rows are samples) -> its rank-k projection; the basis U_k (L x k)."""
    u, s, vh = torch.linalg.svd(y.T, full_matrices=False)
    uk = u[:, :k]
    return y @ uk @ uk.T, uk


def rel(pred, x):
    return 100 * torch.linalg.norm(pred - x) / torch.linalg.norm(x)


# (this network's module, rrae's parameter prefix, whether rrae stores the weight transposed)
PAIRS = [("enc.0", "encoder.0", False), ("enc.2", "encoder.2", False),
         ("enc.4", "encoder.4", False), ("enc.7", "encoder.7", True), ("lin", "decoder.9", True),
         ("dec.0", "decoder.11", False), ("dec.2", "decoder.13", False),
         ("dec.4", "decoder.15", False), ("dec.6", "decoder.17", False)]


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return raw[:8 + n], json.loads(raw[8:8 + n]), raw[8 + n:]


def load_rrae(model, path):
    """rrae's model.safetensors layouts: linear [in, out]; conv [out, in*kh*kw];
    conv_transpose [in, out*kh*kw]."""
    _, head, body = read_safetensors(path)
    T = {k: np.frombuffer(body[v["data_offsets"][0]:v["data_offsets"][1]],
                          dtype=np.float32 if v["dtype"] == "F32" else np.float64).reshape(v["shape"])
         for k, v in head.items() if k != "__metadata__"}
    mods = dict(model.named_modules())
    with torch.no_grad():
        for mine, theirs, transpose in PAIRS:
            w = T[theirs + ".weight"]
            w = w.T if transpose else w
            mods[mine].weight.copy_(torch.tensor(np.ascontiguousarray(w), dtype=torch.float32)
                                    .reshape(mods[mine].weight.shape))
            mods[mine].bias.copy_(torch.tensor(T[theirs + ".bias"], dtype=torch.float32))
