"""torch.linalg.svd with autograd beside rrae's truncated SVD op (`svd_bench`).

The same work as runtime/engine/examples/svd_bench.rs, in PyTorch: the thin SVD of the
L x B latent matrix in f64, the rank-k projection U_k U_kᵀ Y (k = min(L, B)/4) and its
backward through torch's SVD gradient, median ms over the same repeats. Run it with
bench/svd_compare.sh, which runs both programs in one go on the same thread counts.

    bench/torch_venv.sh bench/torch_svd.py [--threads N] [LxB ...]
"""
import argparse
import statistics
import time

import torch

DEFAULT = ["64x64", "128x256", "256x512", "512x1024", "1024x1024", "1024x2048", "2500x4096"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("sizes", nargs="*", default=DEFAULT)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print("L\tB\tk\tforward_ms\tbackward_ms\trepeats")
    for size in a.sizes:
        l, b = (int(v) for v in size.split("x"))
        k = max(min(l, b) // 4, 1)
        g = torch.Generator().manual_seed(0)
        y0 = torch.rand(l, b, generator=g, dtype=torch.float64) - 0.5
        up = torch.rand(l, b, generator=g, dtype=torch.float64) - 0.5
        n = l * b
        repeats = 1 if n > 1 << 21 else 3 if n > 1 << 18 else 9
        fwd, bwd = [], []
        for _ in range(repeats):
            y = y0.clone().requires_grad_(True)
            t0 = time.perf_counter()
            u, s, vh = torch.linalg.svd(y, full_matrices=False)
            uk = u[:, :k]
            yk = uk @ (uk.T @ y)
            t1 = time.perf_counter()
            yk.backward(up)
            t2 = time.perf_counter()
            assert y.grad is not None and y.grad.shape == (l, b)
            fwd.append((t1 - t0) * 1e3)
            bwd.append((t2 - t1) * 1e3)
        print(f"{l}\t{b}\t{k}\t{statistics.median(fwd):.1f}\t{statistics.median(bwd):.1f}\t{repeats}", flush=True)


if __name__ == "__main__":
    main()
