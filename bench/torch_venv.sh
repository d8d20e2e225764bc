#!/usr/bin/env bash
# Runs a Python script of bench/ in the PyTorch reference's private virtual environment,
# created on first use under target/torch-venv (never the default Python) with torch,
# numpy and scipy. `bench/torch_venv.sh bench/init_draws.py --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/torch-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch numpy scipy
fi
"$venv/bin/python" -c "import scipy" 2>/dev/null || "$venv/bin/pip" install -q scipy
exec "$venv/bin/python" "$@"
