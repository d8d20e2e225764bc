#!/usr/bin/env bash
# Runs bench/torch_rrae.py (the PyTorch reference of models/rrae.rrae) in the private
# virtual environment of bench/torch_venv.sh. Arguments pass through, e.g.
# `bench/torch_rrae.sh --seed 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bench/torch_venv.sh bench/torch_rrae.py "$@"
