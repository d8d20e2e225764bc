"""The Python extension against the CLI: the same artifact, the same interpreter, so
`encode`, `decode` and `sample` must agree with `rrae encode/decode/sample` bit for bit.

Needs RRAE_BIN, the `rrae` binary (tests/python.rs sets it)."""

import os
import pathlib
import subprocess

import numpy as np
import pytest

import rrae

BIN = os.environ["RRAE_BIN"]
ROOT = pathlib.Path(__file__).resolve().parents[2]


def cli(*args):
    subprocess.run([BIN, *map(str, args)], check=True, capture_output=True)


@pytest.fixture(scope="session")
def artifact(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    cli("run", ROOT / "tests/fixtures/tiny.rrae", "--out", run, "--quiet")
    return run / "model.rra"


@pytest.fixture()
def model(artifact):
    return rrae.open(artifact)


def samples(model, n, seed):
    rng = np.random.default_rng(seed)
    return rng.random((n, *model.input_shape), dtype=np.float32)


def test_encode_matches_the_cli(model, artifact, tmp_path):
    x = samples(model, 5, 1)
    np.save(tmp_path / "x.npy", x)
    cli("encode", artifact, tmp_path / "x.npy", "--out", tmp_path / "a.npy")
    want = np.load(tmp_path / "a.npy")
    got = model.encode(x)
    assert got.dtype == np.float32 and got.shape == (5, model.k)
    assert np.array_equal(got.astype(np.float64), want)


def test_decode_matches_the_cli(model, artifact, tmp_path):
    alpha = np.random.default_rng(2).standard_normal((3, model.k)).astype(np.float32)
    np.save(tmp_path / "a.npy", alpha)
    cli("decode", artifact, tmp_path / "a.npy", "--out", tmp_path / "y.npy")
    want = np.load(tmp_path / "y.npy")
    got = model.decode(alpha)
    assert got.shape == (3, *model.input_shape)
    assert want.shape == got.shape, "the CLI writes samples in the input's shape"
    assert np.array_equal(got.astype(np.float64), want)


def test_sample_matches_the_cli(model, artifact, tmp_path):
    cli("sample", artifact, "-n", 4, "--seed", 7, "--out", tmp_path / "s.npy")
    want = np.load(tmp_path / "s.npy")
    got = model.sample(4, seed=7)
    assert got.shape == (4, *model.input_shape)
    assert want.shape == got.shape
    assert np.array_equal(got.astype(np.float64), want)
    assert not np.array_equal(got, model.sample(4, seed=8))


def test_reconstruct_and_interpolate_follow_encode_and_decode(model):
    x = samples(model, 2, 3)
    assert np.array_equal(model.reconstruct(x), model.decode(model.encode(x)))
    a, b = model.encode(x[0]), model.encode(x[1])
    assert a.shape == (model.k,), "one sample in, one row out"
    mid = model.interpolate(x[0], x[1], 3)
    assert mid.shape == (3, *model.input_shape)
    for i in range(3):
        t = np.float32(i + 1) / np.float32(4)
        c = (np.float32(1) - t) * a + t * b
        assert np.array_equal(mid[i], model.decode(c))


def test_float64_input_is_converted(model):
    x = samples(model, 2, 4)
    assert np.array_equal(model.encode(x.astype(np.float64)), model.encode(x))


def test_metadata_describes_the_run(model, artifact):
    meta = model.metadata
    assert meta["name"] == "tiny"
    assert "model tiny" in meta["source"]
    assert meta["input_shape"] == [1, 16, 16] == model.input_shape
    assert meta["k"] == model.k == 2
    assert meta["latent_dim"] == model.latent_dim == 8
    assert meta["training"]["k"] == 2
    assert meta["training"]["train_steps"] == 40
    assert meta["dataset"]["train_samples"] > 0
    assert meta["norm"]["scale"] > 0
    assert len(meta["source_hash"]) == 16
    assert repr(model).startswith("rrae.Model(")


def test_wrong_shapes_are_refused(model):
    with pytest.raises(ValueError, match="encode takes one sample"):
        model.encode(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="decode takes"):
        model.decode(np.zeros((2, model.k + 1), dtype=np.float32))


def test_a_damaged_file_is_refused(artifact, tmp_path):
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.rra"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="the artifact is damaged"):
        rrae.open(bad)
    with pytest.raises(OSError):
        rrae.open(tmp_path / "missing.rra")


@pytest.fixture(scope="session")
def vae_artifact(tmp_path_factory):
    run = tmp_path_factory.mktemp("vae")
    src = (ROOT / "tests/fixtures/tiny.rrae").read_text()
    vae = src.replace("svd_truncate(k = 2)", "vae(beta = 0.01)")
    assert vae != src
    (run / "vae.rrae").write_text(vae)
    cli("run", run / "vae.rrae", "--out", run / "out", "--quiet")
    return run / "out" / "model.rra"


def test_a_vae_samples_its_prior_as_the_cli_does(vae_artifact, tmp_path):
    """A VAE's coefficients are its latent (k = L) and its samples are the decoder on
    N(0, I) draws: Python, `rrae sample` and `rrae decode` of unit draws agree."""
    model = rrae.open(vae_artifact)
    assert model.k == 8
    cli("sample", vae_artifact, "-n", 4, "--seed", 7, "--out", tmp_path / "s.npy")
    got = model.sample(4, seed=7)
    assert np.array_equal(got.astype(np.float64), np.load(tmp_path / "s.npy"))
    # μ of a training-like input is finite, and decoding zeros (the prior's mean) is the
    # decoder's output at the origin, the same in Python and the CLI.
    zero = np.zeros((1, model.k), dtype=np.float32)
    np.save(tmp_path / "z.npy", zero)
    cli("decode", vae_artifact, tmp_path / "z.npy", "--out", tmp_path / "d.npy")
    assert np.array_equal(model.decode(zero).astype(np.float64), np.load(tmp_path / "d.npy"))
