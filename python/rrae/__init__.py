"""Rank Reduction Autoencoders from Python.

Train a ``.rrae`` model file and use what it made, in a notebook or a script::

    import rrae
    run = rrae.run("models/rrae.rrae", out="runs/k4", latent__k=4, train__lr=3e-4)
    run.metrics["test_error"]          # metrics.json's measures, as a dict
    alpha = run.model.encode(x)        # the run's artifact, opened: (n, *input) -> (n, k)
    y = run.model.decode(alpha)        # (n, k) -> (n, *input)

    m = rrae.open("runs/k4")           # a run folder, or its model.rra
    print(rrae.check("models/rrae.rrae", latent="svd_truncate(k = adaptive)"))

Training runs the ``rrae`` command (installed with this package's wheel, or found on
``PATH``, or named by ``RRAE_BIN``) in a child process, so a crash cannot take the
interpreter with it and an interrupt (Ctrl-C, or the notebook's stop button) leaves a
checkpoint that ``rrae.run(..., resume=True)`` continues. Opening an artifact and
encoding, decoding or sampling with it runs in this process, through the same
interpreter the command line uses: the numbers agree bit for bit.

Settings are changed as ``rrae run --set`` changes them: keyword arguments with ``__``
for the dot (``train__lr=3e-4`` is ``train.lr=3e-4``), or ``set={"train.lr": 3e-4}``;
the value is written into the model file's text and checked exactly as a written one.
"""

from __future__ import annotations

import csv
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

from ._rrae import Model, __version__
from ._rrae import open as _open_artifact

__all__ = ["Model", "Run", "RraeError", "__version__", "check", "open", "run"]

PathLike = Union[str, "os.PathLike[str]"]
Value = Union[bool, int, float, str, Sequence[Any]]


class RraeError(Exception):
    """A model file that does not check, a run that failed, or no ``rrae`` command.

    ``str(error)`` is what the command line printed: the diagnostic with its
    ``file:line:col``, the construct and the fix.
    """


def open(path: PathLike) -> Model:  # noqa: A001 - the package's verb, as rrae.open
    """Opens a trained model: a ``model.rra`` or the run folder holding one.

    The file is read into memory and its checksum verified once: a copy, so that
    replacing or truncating the file while the model is open cannot crash the
    interpreter (a mapped file faults with SIGBUS).
    """
    return _open_artifact(os.fspath(path))


def _binary() -> str:
    """The ``rrae`` command: ``RRAE_BIN``, the one this package's wheel installed
    beside the interpreter, or the first on ``PATH``."""
    named = os.environ.get("RRAE_BIN")
    if named:
        return named
    exe = "rrae.exe" if sys.platform == "win32" else "rrae"
    beside = pathlib.Path(sysconfig.get_path("scripts")) / exe
    if beside.is_file():
        return str(beside)
    found = shutil.which("rrae")
    if found:
        return found
    raise RraeError(
        "the rrae command was not found: install the rrae wheel (it carries the command), "
        "put `rrae` on PATH (cargo install --path runtime/cli), or set RRAE_BIN"
    )


def _literal(value: Value) -> str:
    """A Python value as the model language writes it: ``True`` as ``true``, lists in
    brackets; strings verbatim (a name such as ``minmax`` or a call such as
    ``svd_truncate(k = 4)``; quote them yourself for a string: ``'"data.npy"'``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise TypeError(f"{value!r} is not a value a model file can hold")


def _assignments(
    set: Union[Mapping[str, Value], Iterable[str], None], settings: Mapping[str, Value]
) -> List[str]:
    out: List[str] = []
    if isinstance(set, Mapping):
        out += [f"{k}={_literal(v)}" for k, v in set.items()]
    elif set is not None:
        out += [str(s) for s in set]
    out += [f"{k.replace('__', '.')}={_literal(v)}" for k, v in settings.items()]
    return out


def _is_file(name: str) -> bool:
    try:
        return pathlib.Path(name).is_file()
    except OSError:  # a text too long to be a file name
        return False


class _Source:
    """A model given as a path, or as text (written to a temporary file in the working
    folder, so that its data paths are relative to it, and removed afterwards)."""

    def __init__(self, model: PathLike):
        self.temporary: Optional[pathlib.Path] = None
        text = model if isinstance(model, str) and ("\n" in model or "{" in model) else None
        if text is not None and not _is_file(text):
            fd, name = tempfile.mkstemp(prefix=".rrae-", suffix=".rrae", dir=os.getcwd())
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            self.temporary = pathlib.Path(name)
            self.path = name
        else:
            self.path = os.fspath(model)

    def __enter__(self) -> str:
        return self.path

    def __exit__(self, *exc: object) -> None:
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)


def check(model: PathLike, *, set: Union[Mapping[str, Value], Iterable[str], None] = None, **settings: Value) -> str:
    """Checks a model file (a path, or the text of one) with the given settings changed.

    Returns what ``rrae check`` prints: the lowered graph with every shape and parameter
    count, and the memory estimate. Raises :class:`RraeError` with the diagnostic when
    the model does not check.
    """
    with _Source(model) as path:
        args = [_binary(), "check", path]
        for a in _assignments(set, settings):
            args += ["--set", a]
        done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise RraeError(done.stderr.strip() or f"rrae check exited with {done.returncode}")
    return done.stdout


class Run:
    """A run folder: its metrics, its loss log and its model.

    ``Run("runs/rrae")`` opens any finished run folder, as ``rrae.run`` returns one.
    """

    def __init__(self, path: PathLike):
        self.path = pathlib.Path(path)
        if not (self.path / "metrics.json").is_file():
            raise RraeError(f"{self.path} has no metrics.json: is it a finished run folder?")

    @property
    def report(self) -> Dict[str, Any]:
        """``metrics.json`` as a dict: the settings the run trained with, its timings,
        ``k``, and ``metrics`` (with a later ``rrae eval``'s ``eval.json`` in their place)."""
        report: Dict[str, Any] = json.loads((self.path / "metrics.json").read_text())
        again = self.path / "eval.json"
        if again.is_file():
            report["metrics"] = json.loads(again.read_text())
        return report

    @property
    def metrics(self) -> Dict[str, Any]:
        """The measures: errors in %, singular values, FIDs where the data has them."""
        metrics: Dict[str, Any] = self.report["metrics"]
        return metrics

    @property
    def losses(self) -> Dict[str, List[Any]]:
        """``losses.csv`` by column: phase, step, k, loss, validation (None where not
        measured), penalty (the latent operator's term of the loss: a VAE's KL, LoRAE's
        nuclear norm; None where the model has none) and ms."""
        with (self.path / "losses.csv").open(newline="") as f:
            rows = list(csv.reader(f))
        head = rows[0]
        cols: Dict[str, List[Any]] = {h: [] for h in head}
        for row in rows[1:]:
            for h, v in zip(head, row):
                if h == "phase":
                    cols[h].append(v)
                elif h in ("step", "k"):
                    cols[h].append(int(v))
                else:
                    cols[h].append(float(v) if v else None)
        return cols

    @property
    def model(self) -> Model:
        """The run's artifact, opened (``rrae.open(run.path)``)."""
        return open(self.path)

    def __repr__(self) -> str:
        m = self.metrics
        return f"rrae.Run({str(self.path)!r}: test error {m.get('test_error', float('nan')):.2f} %, k {self.report.get('k')})"


class _Progress:
    """The run's events shown as it goes: a tqdm bar per phase where tqdm is installed
    (``tqdm.auto``: a widget in a notebook), else one line rewritten in place."""

    def __init__(self, show: bool):
        self.show = show
        self.bar: Any = None
        self.phase = ""
        self.steps = 0
        try:
            from tqdm.auto import tqdm

            self.tqdm: Any = tqdm
        except ImportError:
            self.tqdm = None

    def event(self, e: Dict[str, Any]) -> None:
        if not self.show:
            return
        kind = e.get("event")
        if kind == "start":
            self.close()
            self.phase, self.steps = e["phase"], e["steps"]
            if self.tqdm is not None:
                self.bar = self.tqdm(total=self.steps, initial=e["from"], desc=self.phase)
        elif kind == "step":
            val = e.get("validation")
            text = f"k {e['k']} loss {e['loss']:.3f}" + (f" validation {val:.3f}" if val is not None else "")
            if self.bar is not None:
                self.bar.n = e["step"] + 1
                self.bar.set_postfix_str(text, refresh=True)
            else:
                print(f"\r{self.phase} {e['step'] + 1}/{self.steps} {text}", end="", file=sys.stderr, flush=True)
        elif kind == "decision" and e.get("action") not in ("stop", "fine_tune"):
            self.line(f"step {e['step']}: k = {e.get('rank', e.get('k'))} ({e.get('reason', '')})")
        elif kind == "message":
            self.line(e["text"])

    def line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(f"\r{text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.phase:
            print(file=sys.stderr)


def _lines(p: "subprocess.Popen[str]") -> Iterator[str]:
    assert p.stdout is not None
    for line in p.stdout:
        yield line.rstrip("\n")


def run(
    model: PathLike,
    *,
    out: Optional[PathLike] = None,
    device: str = "auto",
    resume: bool = False,
    steps: Optional[int] = None,
    fine_tune_steps: Optional[int] = None,
    seed: Optional[int] = None,
    set: Union[Mapping[str, Value], Iterable[str], None] = None,
    progress: bool = True,
    **settings: Value,
) -> Run:
    """Trains and evaluates a model file (a path, or the text of one) and returns its run
    folder.

    ``out`` is the run folder (default ``runs/<model name>``); ``resume=True`` continues
    the interrupted run in ``out`` with the settings it started with. Settings are
    changed with ``train__lr=3e-4``-style keywords or ``set={...}``. Progress shows as
    the run goes (``progress=False``: none). An interrupt stops the run after its
    current step with a checkpoint, then raises ``KeyboardInterrupt``; a failure raises
    :class:`RraeError` with the command line's message.
    """
    if resume and out is None:
        raise ValueError("resume=True needs out=, the run folder to continue")
    with _Source(model) as path:
        args = [_binary(), "run", path, "--progress", "json", "--device", device]
        if resume:
            args += ["--resume", os.fspath(out)]  # type: ignore[arg-type]
        else:
            if out is not None:
                args += ["--out", os.fspath(out)]
            for a in _assignments(set, settings):
                args += ["--set", a]
            for flag, v in (("--steps", steps), ("--fine-tune-steps", fine_tune_steps), ("--seed", seed)):
                if v is not None:
                    args += [flag, str(v)]
        shown = _Progress(progress)
        folder: Optional[str] = None
        with tempfile.TemporaryFile("w+") as err:
            p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
            try:
                for line in _lines(p):
                    if line.startswith("{"):
                        try:
                            shown.event(json.loads(line))
                        except (ValueError, KeyError):
                            pass
                    elif line.startswith("run folder: "):
                        folder = line[len("run folder: "):]
                code = p.wait()
            except KeyboardInterrupt:
                # The run stops after its step and writes a checkpoint.
                p.send_signal(signal.SIGINT)
                p.wait()
                shown.close()
                where = f" out={os.fspath(out)!r}," if out is not None else ""
                raise KeyboardInterrupt(
                    f"the run stopped with a checkpoint; rrae.run(...,{where} resume=True) continues it"
                ) from None
            finally:
                shown.close()
            err.seek(0)
            message = err.read().strip()
    if code != 0 or folder is None:
        raise RraeError(message or f"rrae run exited with {code}")
    return Run(folder)
