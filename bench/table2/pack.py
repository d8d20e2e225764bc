"""Table 2's images, packed for a GPU machine: bench/table2/run.sh's saved images, as
gzipped 8-bit images (what writing them as PNG files, pytorch-fid's input, does: rounded and
clamped to 0..255), with the FID Inception network, in one tar split into parts small
enough for one device call each.

Usage: python bench/table2/pack.py [--out target/table2-gpu] [--part-mib 58]
                                      [--datasets mnist fashion_mnist]

Writes OUT/part-NN and OUT/SHA256 (the whole tar's checksum, which device.sh checks
before it reads anything). The real test set is in original units already (integers
0..255), so it is exact; the generated images lose only what a PNG would lose.
"""

import argparse
import gzip
import hashlib
import io
import os
import tarfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASETS = ["mnist", "fashion_mnist"]
# The paper's five, then the variational family (bench/variational/run.sh images). A
# model whose run has not finished is left out of the pack, and fid.py computes what the
# pack holds: the two halves can be run for the paper's rows alone.
MODELS = ["rrae", "long", "diabolo", "irmae", "arrae", "vae", "vrrae", "lorae"]
SETS = ["interpolations", "samples"]


def to_u8(x):
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def arrays(datasets):
    """(name, uint8 array) for every set of every run, the test set once per data set."""
    for ds in datasets:
        test = None
        folder = os.path.join(ROOT, "runs", "table2", ds)
        ran = [m for m in MODELS if os.path.isfile(os.path.join(folder, m, "images", "test.npy"))]
        if not ran:
            raise SystemExit(f"runs/table2/{ds}: no run with saved images (bash bench/table2/run.sh {ds})")
        print(f"{ds}: {', '.join(ran)}; not run: {', '.join(m for m in MODELS if m not in ran) or 'none'}")
        for m in ran:
            d = os.path.join(folder, m, "images")
            t = np.load(os.path.join(d, "test.npy"))
            if test is None:
                test = t
                if not np.array_equal(t, np.rint(t)) or t.min() < 0 or t.max() > 255:
                    raise SystemExit(f"{d}/test.npy: not 8-bit images in original units")
                yield f"{ds}/test", to_u8(t)
            elif not np.array_equal(t, test):
                raise SystemExit(f"{d}/test.npy differs from {ran[0]}'s")
            for s in SETS:
                yield f"{ds}/{m}/{s}", to_u8(np.load(os.path.join(d, f"{s}.npy")))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.path.join(ROOT, "target", "table2-gpu"))
    p.add_argument("--part-mib", type=int, default=58)
    p.add_argument("--model", default=os.environ.get("RRAE_INCEPTION"))
    p.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    a = p.parse_args()
    if not a.model or not os.path.isfile(a.model):
        raise SystemExit("the FID Inception file: --model or RRAE_INCEPTION (docs/fid.md)")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, x in arrays(a.datasets):
            raw = io.BytesIO()
            np.save(raw, x)
            b = gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
            info = tarfile.TarInfo(f"{name}.npy.gz")
            info.size = len(b)
            tar.addfile(info, io.BytesIO(b))
            print(f"{name}: {x.shape}")
        tar.add(a.model, arcname="inception.pt")
    data = buf.getvalue()
    os.makedirs(a.out, exist_ok=True)
    for f in os.listdir(a.out):
        if f.startswith("part-"):
            os.remove(os.path.join(a.out, f))
    size = a.part_mib << 20
    n = 0
    for i in range(0, len(data), size):
        with open(os.path.join(a.out, f"part-{n:02d}"), "wb") as f:
            f.write(data[i : i + size])
        n += 1
    with open(os.path.join(a.out, "SHA256"), "w") as f:
        f.write(hashlib.sha256(data).hexdigest() + "\n")
    print(f"{len(data) / 2**20:.1f} MiB in {n} parts under {a.out}")


if __name__ == "__main__":
    main()
