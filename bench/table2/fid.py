"""Table 2's standard FIDs from bench/table2/pack.py's images, on a GPU (or the CPU).

Usage: python bench/table2/fid.py FOLDER [--device cuda] [--limit N] [--json OUT]

FOLDER is the unpacked tar: inception.pt and DATASET/test.npy.gz,
DATASET/MODEL/{interpolations,samples}.npy.gz. The features are
bench/fid_reference.py's (pytorch-fid's preprocessing), in float32 without TF32, so
that a GPU computes what the CPU would up to summation order. The distance is
pytorch-fid's with scipy's sqrtm where scipy is installed; the eigenvalue form beside it
(tr sqrt(S1 S2) = sum of sqrt of the eigenvalues of A S2 A, A = S1^(1/2)) needs only
numpy, and the two are printed side by side so that either can be checked.
"""

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fid_reference  # noqa: E402
from pack import MODELS, SETS  # noqa: E402  (this folder is on the path as the script's)


def frechet_eigh(mu1, s1, mu2, s2):
    w, v = np.linalg.eigh(s1)
    a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = a @ s2 @ a
    tr = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    d = mu1 - mu2
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2 * tr)


def frechet_scipy(mu1, s1, mu2, s2):
    try:
        return float(fid_reference.frechet(mu1, s1, mu2, s2))
    except ImportError:
        return None


def load(folder, name, limit):
    with gzip.open(os.path.join(folder, f"{name}.npy.gz")) as f:
        x = np.load(f)
    return x[:limit] if limit else x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--device", default="cuda")
    p.add_argument("--limit", type=int, default=0, help="images per set (0: all)")
    p.add_argument("--json")
    p.add_argument("--only", nargs="+", help="DATASET/MODEL/SET names (default: every set)")
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    path = os.path.join(a.folder, "inception.pt")
    model = torch.jit.load(path, map_location=a.device).eval()
    feats = lambda x: fid_reference.features(model, x, 0.0, 255.0, a.device, batch=200)
    datasets = sorted(d for d in os.listdir(a.folder) if os.path.isdir(os.path.join(a.folder, d)))
    if a.only:
        datasets = [d for d in datasets if any(o.startswith(f"{d}/") for o in a.only)]
    out = {"device": torch.cuda.get_device_name() if a.device.startswith("cuda") else "cpu"}
    print(f"device: {out['device']}, torch {torch.__version__}")
    for ds in datasets:
        t0 = time.time()
        real = load(a.folder, f"{ds}/test", a.limit)
        sr = fid_reference.stats(feats(real))
        rows = {"real_images": len(real)}
        print(f"\n{ds}: {len(real)} real test images ({time.time() - t0:.0f} s)")
        print("| model | set | images | FID (scipy sqrtm) | FID (eigenvalues) |")
        print("| --- | --- | --- | --- | --- |")
        for m in MODELS:
            for s in SETS:
                if a.only and f"{ds}/{m}/{s}" not in a.only:
                    continue
                if not os.path.isfile(os.path.join(a.folder, f"{ds}/{m}/{s}.npy.gz")):
                    if a.only:  # asked for by name: a set that was never packed is an error
                        raise SystemExit(f"{ds}/{m}/{s}: not in {a.folder} (pack.py packs finished runs)")
                    continue  # a model whose run had not finished when pack.py ran
                x = load(a.folder, f"{ds}/{m}/{s}", a.limit)
                sg = fid_reference.stats(feats(x))
                fs, fe = frechet_scipy(*sr, *sg), frechet_eigh(*sr, *sg)
                rows[f"{m}/{s}"] = {"images": len(x), "fid": fs, "fid_eigh": fe}
                fs_txt = "—" if fs is None else f"{fs:.3f}"
                print(f"| {m} | {s} | {len(x)} | {fs_txt} | {fe:.3f} |", flush=True)
                if a.json:  # after every set: a long CPU run keeps what it computed
                    out[ds] = rows
                    with open(a.json, "w") as f:
                        json.dump(out, f, indent=1)
        rows["seconds"] = time.time() - t0
        out[ds] = rows
        if a.json:
            with open(a.json, "w") as f:
                json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
