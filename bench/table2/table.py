"""Table 2 for docs/results.md, from bench/table2/run.sh's runs and the standard FIDs of
bench/table2/fid.py (its --json files, any number; a set they do not cover is "—").

Usage: python bench/table2/table.py [FID_JSON ...]
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASETS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
MODELS = {"rrae": "RRAE", "long": "Long", "diabolo": "Diabolo", "irmae": "IRMAE", "arrae": "aRRAE",
          "vae": "VAE", "vrrae": "VRRAE", "lorae": "LoRAE"}
# Where each row's run comes from, for the "not run yet" line.
RUN = {m: "bash bench/table2/run.sh" for m in ["rrae", "long", "diabolo", "irmae", "arrae"]}
RUN.update({m: f"MODELS={m} bash bench/variational/run.sh images" for m in ["vae", "vrrae", "lorae"]})


def standard(paths):
    """(dataset, model, set) -> (FID, images, device) from fid.py's json files."""
    out = {}
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        for ds, rows in d.items():
            if not isinstance(rows, dict):
                continue
            for key, v in rows.items():
                if isinstance(v, dict):
                    m, s = key.split("/")
                    fid = v["fid"] if v["fid"] is not None else v["fid_eigh"]
                    out[(ds, m, s)] = (fid, v["images"], d["device"], rows["real_images"])
    return out


def main():
    fids = standard(sys.argv[1:])
    for ds, title in DATASETS.items():
        folder = os.path.join(ROOT, "runs", "table2", ds)
        if not os.path.isdir(folder):
            continue
        print(f"\n**{title}**\n")
        print("| model | L | k | test % | FID local recon. | FID local interp. | FID local sampling"
              " | FID-Inception interp. | FID-Inception sampling |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for m, name in MODELS.items():
            path = os.path.join(folder, m, "metrics.json")
            if not os.path.isfile(path):
                print(f"| {name} | not run yet ({RUN[m]}, dataset {ds}) |")
                continue
            with open(path) as f:
                d = json.load(f)
            x = d["metrics"]
            k = d["k"] if d["k"] is not None else "—"
            std = []
            for s in ("interpolations", "samples"):
                v = fids.get((ds, m, s))
                std.append("—" if v is None else f"{v[0]:.2f}")
            print(f"| {name} | {d['latent_dim']} | {k} | {x['test_error']:.2f} | {x['fid_reconstruction']:.2f}"
                  f" | {x['fid_interpolation']:.2f} | {x['fid_sampling']:.2f}"
                  f" | {std[0]} | {std[1]} |")
        n = {(v[1], v[3], v[2]) for key, v in fids.items() if key[0] == ds}
        for gen, real, dev in sorted(n):
            print(f"\nFID-Inception: {gen} generated against {real} test images, on {dev}.")


if __name__ == "__main__":
    main()
