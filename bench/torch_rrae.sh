#!/usr/bin/env bash
# Runs bench/torch_rrae.py (the PyTorch reference of models/rrae.rrae) in a private
# virtual environment, created on first use under target/torch-venv (never the
# default Python). Arguments pass through, e.g. `bench/torch_rrae.sh --seed 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/torch-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch numpy
fi
exec "$venv/bin/python" bench/torch_rrae.py "$@"
