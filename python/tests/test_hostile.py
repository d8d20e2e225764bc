"""The Python extension against a hostile caller (issue 40, findings 7-9 and the minor
ones): an artifact truncated or replaced while open, NaN and infinite input, results too
large for memory, complex / bool / object arrays, and `(n, *input)` without the unit
channel axis. Each asserts the exception and its message, and that the interpreter
lives on. Needs RRAE_BIN (tests/python.rs sets it)."""

import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import rrae

BIN = os.environ["RRAE_BIN"]
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def artifact(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    subprocess.run([BIN, "run", ROOT / "tests/fixtures/tiny.rrae", "--out", run, "--quiet"],
                   check=True, capture_output=True)
    return run / "model.rra"


def test_an_open_artifact_truncated_underneath_keeps_working(artifact, tmp_path):
    live = tmp_path / "live.rra"
    shutil.copy(artifact, live)
    m = rrae.open(live)
    x = np.random.default_rng(0).random((2, 1, 16, 16), dtype=np.float32)
    before = m.encode(x)
    # What `cp new.rra live.rra` does to the file under an open notebook: truncate, then
    # write. A mapped file faulted here (SIGBUS killed the interpreter).
    with open(live, "r+b") as f:
        f.truncate(0)
    assert np.array_equal(m.encode(x), before)
    assert m.decode(before).shape == (2, 1, 16, 16)


def test_nan_and_infinite_input_is_refused_as_the_cli_refuses_it(artifact):
    m = rrae.open(artifact)
    x = np.zeros((3, 1, 16, 16), dtype=np.float32)
    x[1, 0, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"encode: value 291 \(sample 1\) is NaN or infinite"):
        m.encode(x)
    with pytest.raises(ValueError, match="decode: value 1 .* is NaN or infinite"):
        m.decode(np.array([[0.0, np.inf]], dtype=np.float32))
    with pytest.raises(ValueError, match="NaN or infinite"):
        m.reconstruct(np.full((1, 16, 16), -np.inf))
    with pytest.raises(ValueError, match="NaN or infinite"):
        m.interpolate(x[1], x[0], 3)


def test_results_too_large_for_memory_are_refused_before_allocating(artifact):
    m = rrae.open(artifact)
    with pytest.raises(MemoryError, match=r"1099511627776 samples would need .* GiB, more than the .* GiB of memory available"):
        m.sample(2**40)
    x = np.zeros((1, 16, 16), dtype=np.float32)
    with pytest.raises(MemoryError, match="interpolate with 1099511627776 points would need"):
        m.interpolate(x, x, 2**40)
    assert m.sample(2).shape == (2, 1, 16, 16)


def test_arrays_that_are_not_real_numbers_are_refused_not_cast(artifact):
    m = rrae.open(artifact)
    z = np.zeros((2, 1, 16, 16))
    for bad, dtype in [(z.astype(np.complex128), "complex128"), (z.astype(bool), "bool"),
                       (z.astype(object), "object")]:
        with pytest.raises(TypeError, match=f"encode takes real numbers .* not dtype {dtype}"):
            m.encode(bad)
    with pytest.raises(TypeError, match="decode takes real numbers"):
        m.decode(np.array([["a", "b"]]))
    # Ints and unsigned ints are real numbers.
    assert m.encode(z.astype(np.uint8)).shape == (2, 2)
    assert np.array_equal(m.encode(z.astype(np.int64)), m.encode(z.astype(np.float32)))


def test_samples_without_the_unit_channel_axis_are_taken(artifact):
    m = rrae.open(artifact)
    assert m.input_shape == [1, 16, 16]
    x = np.random.default_rng(1).random((4, 16, 16), dtype=np.float32)
    assert np.array_equal(m.encode(x), m.encode(x[:, None]))
    assert np.array_equal(m.encode(x[0]), m.encode(x[0][None]))
    assert m.reconstruct(x).shape == (4, 1, 16, 16)


def test_ten_thousand_damaged_artifacts_raise_and_never_crash(artifact, tmp_path):
    """Bit flips and truncations, in child interpreters (a crash there cannot hide as an
    exception here): 10,000 cases, each a damaged file opened, or (one in five) a good
    file damaged while it is open and then used; every one an exception or a working
    model, none a signal."""
    script = tmp_path / "fuzz.py"
    script.write_text(
        "import sys, random, numpy as np, rrae\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "rng = random.Random(int(sys.argv[2]))\n"
        "path = sys.argv[3]\n"
        "opened = refused = 0\n"
        "for i in range(int(sys.argv[4])):\n"
        "    b = bytearray(data)\n"
        "    if i % 3 == 0:\n"
        "        b = b[:rng.randrange(len(b))]\n"
        "    else:\n"
        "        for _ in range(rng.randrange(1, 8)):\n"
        "            j = rng.randrange(len(b)); b[j] ^= 1 << rng.randrange(8)\n"
        "    if i % 5 == 4:\n"
        "        # Truncated or damaged while open: the open model must not notice.\n"
        "        open(path, 'wb').write(data)\n"
        "        m = rrae.open(path)\n"
        "        open(path, 'wb').write(b)\n"
        "        m.encode(np.zeros((1, 16, 16), np.float32)); m.sample(1)\n"
        "        opened += 1\n"
        "        continue\n"
        "    open(path, 'wb').write(b)\n"
        "    try:\n"
        "        m = rrae.open(path)\n"
        "        m.encode(np.zeros((1, 16, 16), np.float32)); m.sample(1)\n"
        "        opened += 1\n"
        "    except (ValueError, OSError, MemoryError):\n"
        "        refused += 1\n"
        "print(opened, refused)\n")
    total = 0
    for seed in range(4):
        out = subprocess.run([sys.executable, script, artifact, str(seed),
                              tmp_path / f"f{seed}.rra", "2500"],
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, f"seed {seed}: exit {out.returncode}\n{out.stderr[-2000:]}"
        opened, refused = map(int, out.stdout.split())
        assert opened + refused == 2500
        total += opened + refused
    assert total == 10_000


def test_a_fifo_or_a_device_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.rra"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="is not a regular file"):
        rrae.open(fifo)
    with pytest.raises(OSError, match="is not a regular file"):
        rrae.open("/dev/zero")
