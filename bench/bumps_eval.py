"""The bumps of models/rrae.rrae and rrae's evaluation of a model on them, in numpy only.

One home for what every reference program is measured with, so that a row of
docs/results.md means the same whichever program trained it: the PyTorch reference
(`bench/torch_rrae.py`) and the authors' own packages (`bench/authors/`, run in their JAX
or PyTorch environments, which share nothing else). A program hands over two functions on
normalised data (rows are samples, images flattened):

- `encode(X) -> Y`: the latent vectors (N x L), before any truncation;
- `decode(Y) -> X`: images from latent vectors (N x L -> N x G*G);

plus the common basis U_f (L x k). The definitions are rrae's
(runtime/reporting/src/eval.rs): errors are 100 ||X_hat - X||_F / ||X||_F in original
units over the whole set; interpolation takes 50 random training pairs at 5 points
linear in the coefficients, against the bump at the interpolated centre and against each
image's best-fitting bump; sampling decodes 250 draws of N(mean, cov) of the training
coefficients; the parametric test error decodes test latents bilinear over the training
centre grid.
"""
import numpy as np

# Data: as runtime/training/src/data/bumps.rs.
G, N, SIG = 64, 20, 0.2
axis = np.linspace(-1, 1, G)
centres_1d = np.linspace(-0.5, 0.5, N)
train_c = np.array([[x, y] for x in centres_1d for y in centres_1d])


def render(c):
    xx, yy = np.meshgrid(axis, axis)  # rows follow y, columns x
    return np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2 * SIG**2))


Xtr = np.stack([render(c) for c in train_c]).reshape(-1, 1, G, G)
mean, std = Xtr.mean(), Xtr.std()


def norm(x):
    return (x - mean) / std


def test_set(rng):
    """The 100 test bumps: centres uniform on [-0.5, 0.5]^2, the run's first draws."""
    test_c = rng.uniform(-0.5, 0.5, size=(100, 2))
    return test_c, np.stack([render(c) for c in test_c]).reshape(-1, 1, G, G)


def best_fit(img):
    """100 ||img - bump|| / ||bump|| for the unit bump of this sigma closest to img, its
    centre inside the mesh: a 21 x 21 grid, then a halving pattern search (as bumps.rs)."""
    err = lambda c: float(((render(c).ravel() - img) ** 2).sum())
    best = min(((err((x, y)), (x, y)) for x in np.linspace(-1, 1, 21)
                for y in np.linspace(-1, 1, 21)))
    e, c, step = best[0], best[1], 0.1
    while step > 1e-4:
        moved = False
        for d in ((step, 0), (-step, 0), (0, step), (0, -step)):
            cc = (float(np.clip(c[0] + d[0], -1, 1)), float(np.clip(c[1] + d[1], -1, 1)))
            ee = err(cc)
            if ee < e:
                e, c, moved = ee, cc, True
        if not moved:
            step /= 2
    return 100 * np.sqrt(e) / np.linalg.norm(render(c))


def mean_std(v):
    return {"mean": float(np.mean(v)), "std": float(np.std(v)), "median": float(np.median(v))}


def relnp(p, x):
    return 100 * np.linalg.norm(p - x) / np.linalg.norm(x)


def evaluate(encode, decode, uf, rng, test_c, Xte):
    """rrae's metrics of a model given by `encode`, `decode` (normalised units, rows are
    samples) and its common basis `uf` (L x k); `rng` continues the run's stream (the
    interpolation pairs, then the sampling draws)."""
    orig = lambda x: np.asarray(x, dtype=np.float64).reshape(len(x), -1) * std + mean
    P = uf @ uf.T
    xtr, xte = norm(Xtr), norm(Xte)
    # Each program's own precision (float32 for all of them): nothing is cast here.
    y = np.asarray(encode(xtr))
    zall = y @ P
    rec_tr = orig(decode(zall))
    rec_te = orig(decode(np.asarray(encode(xte)) @ P))
    m = {
        "train_error": relnp(rec_tr, Xtr.reshape(len(Xtr), -1)),
        "test_error": relnp(rec_te, Xte.reshape(len(Xte), -1)),
    }
    coeff = y @ uf
    lat, truth = [], []
    for _ in range(50):
        i, j = rng.choice(len(xtr), 2, replace=False)
        for s in range(1, 6):
            t = s / 6
            lat.append((1 - t) * coeff[i] + t * coeff[j])
            truth.append(render((1 - t) * train_c[i] + t * train_c[j]).ravel())
    interp = orig(decode(np.array(lat) @ uf.T))
    m["interpolation_error"] = relnp(interp, np.array(truth))
    m["interpolation_bump_fit"] = mean_std([best_fit(x) for x in interp])
    mu, cov = coeff.mean(0), np.cov(coeff, rowvar=False)
    draws = rng.multivariate_normal(mu, np.atleast_2d(cov), size=250)
    samp = orig(decode(draws @ uf.T))
    m["sampling_bump_fit"] = mean_std([best_fit(x) for x in samp])
    # Parametric: bilinear over the 20 x 20 centre grid (x-major), as eval.rs.
    zg = zall.reshape(N, N, -1)
    h = 1 / (N - 1)
    zt = []
    for c in test_c:
        fx, fy = (c[0] + 0.5) / h, (c[1] + 0.5) / h
        ix, iy = min(int(fx), N - 2), min(int(fy), N - 2)
        tx, ty = fx - ix, fy - iy
        zt.append((1 - tx) * (1 - ty) * zg[ix, iy] + tx * (1 - ty) * zg[ix + 1, iy]
                  + (1 - tx) * ty * zg[ix, iy + 1] + tx * ty * zg[ix + 1, iy + 1])
    pt = orig(decode(np.array(zt)))
    m["test_error_parametric"] = relnp(pt, Xte.reshape(len(Xte), -1))
    sv = np.linalg.svd(zall, compute_uv=False)
    m["latent_singular_values"] = (sv / sv[0])[:4].tolist()
    return m
