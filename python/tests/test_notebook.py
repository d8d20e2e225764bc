"""The package as a notebook uses it: training from Python (rrae.run, rrae.check), a
run folder as a handle (metrics, losses, the artifact), rrae.open on a run folder, and
what the package says of itself (version, docs, type hints, the bundled command)."""

import importlib.metadata
import os
import pathlib
import subprocess

import numpy as np
import pytest

import rrae

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = (ROOT / "tests/fixtures/tiny.rrae").read_text()


def test_the_package_says_what_it_is():
    assert rrae.__version__ == importlib.metadata.version("rrae")
    assert "rrae.run" in rrae.__doc__ and "rrae.open" in rrae.__doc__
    here = pathlib.Path(rrae.__file__).parent
    assert (here / "py.typed").is_file() and (here / "_rrae.pyi").is_file()
    for f in (rrae.run, rrae.check, rrae.open, rrae.Run, rrae.Model.encode, rrae.Model.sample):
        assert f.__doc__, f


def test_the_wheel_carries_the_command(monkeypatch):
    monkeypatch.delenv("RRAE_BIN", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    found = rrae._binary()
    assert pathlib.Path(found).parent == pathlib.Path(__import__("sysconfig").get_path("scripts"))
    out = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("rrae " + rrae.__version__)


def test_check_returns_the_graph_or_raises_the_diagnostic():
    ir = rrae.check(ROOT / "tests/fixtures/tiny.rrae", latent__k=3)
    assert "svd_truncate(k=3)" in ir and "memory (estimate)" in ir
    with pytest.raises(rrae.RraeError, match="exceeds min"):
        rrae.check(ROOT / "tests/fixtures/tiny.rrae", set={"latent.k": 9})
    assert "lr 0.0003" in rrae.check(TINY, train__lr=3e-4) or "lr 3e-4" in rrae.check(TINY, train__lr=3e-4)


def test_run_trains_from_text_and_returns_the_run_folder(tmp_path, capsys):
    run = rrae.run(TINY, out=tmp_path / "r", train__steps=20, seed=2, train__validate_every=5)
    assert isinstance(run, rrae.Run) and run.path == tmp_path / "r"
    assert run.report["set"] == ["train.steps=20", "train.validate_every=5"]
    assert run.report["seed"] == 2
    assert 0 < run.metrics["test_error"] < 1000
    losses = run.losses
    assert losses["phase"].count("train") == 20 and losses["phase"].count("fine_tune") == 10
    assert [s for s, v in zip(losses["step"], losses["validation"]) if v is not None][:4] == [4, 9, 14, 19]
    m = run.model
    assert m.k == 2 and m.input_shape == [1, 16, 16]
    x = np.random.default_rng(0).random((3, 1, 16, 16), dtype=np.float32)
    assert np.array_equal(m.encode(x), rrae.open(tmp_path / "r" / "model.rra").encode(x))
    # Progress went to stderr as it trained; no temporary model file is left behind.
    assert "train 20/20" in capsys.readouterr().err
    assert not list(pathlib.Path.cwd().glob(".rrae-*.rrae"))
    assert "test error" in repr(run)


def test_a_failed_run_raises_with_the_command_lines_message(tmp_path):
    with pytest.raises(rrae.RraeError, match="exceeds min"):
        rrae.run(ROOT / "tests/fixtures/tiny.rrae", out=tmp_path / "bad", latent__k=9, progress=False)
    with pytest.raises(ValueError, match="resume=True needs out="):
        rrae.run(TINY, resume=True)
    with pytest.raises(rrae.RraeError, match="finished run folder"):
        rrae.Run(tmp_path)


def test_open_takes_a_run_folder_and_says_when_it_is_not_one(tmp_path):
    run = rrae.run(TINY, out=tmp_path / "r", progress=False)
    assert rrae.open(run.path).k == rrae.open(run.path / "model.rra").k
    with pytest.raises(OSError, match="without a model.rra"):
        rrae.open(tmp_path)


def test_the_reduced_order_model_decodes_at_parameters(tmp_path):
    # The bump fixture carries its centres as parameters on a 5 x 5 grid.
    run = rrae.run(TINY, out=tmp_path / "r", progress=False)
    m = run.model
    assert m.parameters == 2
    centres = np.load(run.path / "coefficients.npy")
    field = m.decode_at([0.1, -0.2])
    assert field.shape == (1, 16, 16) and np.isfinite(field).all()
    assert m.coefficients_at([0.1, -0.2]).shape == (2,)
    assert np.allclose(m.decode(m.coefficients_at([0.1, -0.2])), field)
    with pytest.raises(ValueError, match="outside the training range"):
        m.decode_at([5.0, 0.0])
    with pytest.raises(ValueError):
        m.decode_at([0.1])
    assert centres.shape[1] == 2
