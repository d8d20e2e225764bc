#!/usr/bin/env bash
# The rrae wheel, into target/wheels/: the Python package (python/rrae: run, check, Run,
# docs and type hints), its native half (one abi3 extension for CPython 3.9+), and the
# `rrae` command (installed beside the interpreter, where rrae.run finds it), so that
# `pip install target/wheels/rrae-*.whl` needs no Rust toolchain. Nothing is written
# into the source tree. maturin comes from PyPI into target/py-venv.
#
#   bash python/build-wheel.sh          # dev profile (what the tests use)
#   RRAE_WHEEL_PROFILE=release bash python/build-wheel.sh
#   RRAE_WHEEL_COMMAND=path/to/rrae bash python/build-wheel.sh   # that binary, unbuilt
#                                       # (tests/python.rs: cargo test holds the lock)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${RRAE_WHEEL_PROFILE:-dev}
venv=target/py-venv
if [ ! -x "$venv/bin/maturin" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.7,<2"
fi
command=${RRAE_WHEEL_COMMAND:-}
if [ -z "$command" ]; then
    cargo build --quiet -p rrae --profile "$profile"
    command=target/$([ "$profile" = dev ] && echo debug || echo "$profile")/rrae
fi
out=target/wheels
rm -rf "$out"
# Its own target folder: the extension links against no interpreter, but pyo3's build
# configuration differs from the workspace's, which would rebuild shared crates.
CARGO_TARGET_DIR=target/python "$venv/bin/maturin" build --quiet -m python/Cargo.toml \
    --profile "$profile" -o "$out"
python3 python/add_command.py "$out"/rrae-*.whl "$command"
ls "$out"/rrae-*.whl
