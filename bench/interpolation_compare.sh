#!/usr/bin/env bash
# Multilinear (grid) against radial basis function (scattered) interpolation of the
# latents over the training parameters, on the authors' signals: each model trained
# once, then evaluated twice from the same weights (`rrae eval`, once with
# RRAE_INTERPOLATE=rbf), so the two parametric errors differ only by the interpolant;
# and mult_freqs once more with a third of its training grid dropped at random
# (a scatter, which only the radial basis function takes).
#
#   bash bench/interpolation_compare.sh [RRAE] [OUT]     (about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
RRAE=${1:-target/release/rrae}; OUT=${2:-target/interpolation-compare}
RRAE=$(realpath "$RRAE")
# numpy for the data scripts: the test venv (tests/python.rs makes it), else python3.
PY=python3; [ -x target/py-venv/bin/python ] && PY=$PWD/target/py-venv/bin/python
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
data="$OUT/signals"
mkdir -p "$data"
cp examples/signals/*.rrae "$data/"
"$PY" examples/signals/make_data.py "$data/data" >/dev/null
# mult_freqs with two thirds of its training grid kept (seeded): a scatter.
"$PY" - "$data/data" <<'PY'
import numpy as np, sys, os
d = sys.argv[1]
x = np.load(f"{d}/mult_freqs_train.npy"); p = np.load(f"{d}/mult_freqs_params_train.npy")
keep = np.sort(np.random.default_rng(0).choice(len(x), size=2 * len(x) // 3, replace=False))
np.save(f"{d}/scatter_train.npy", x[keep]); np.save(f"{d}/scatter_params_train.npy", p[keep])
PY
sed -e 's#data/mult_freqs_train.npy#data/scatter_train.npy#' \
    -e 's#data/mult_freqs_params_train.npy#data/scatter_params_train.npy#' \
    "$data/mult_freqs.rrae" > "$data/mult_freqs_scattered.rrae"
param() { python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('%.2f' % m['test_error_parametric'] if 'test_error_parametric' in m else '%.2f' % m['metrics']['test_error_parametric'])" "$1"; }
echo "| data | training parameters | multilinear % | radial basis function % | train + eval s |"
echo "| --- | --- | --- | --- | --- |"
for name in shift mult_freqs mult_freqs_scattered; do
  t0=$(date +%s)
  RAYON_NUM_THREADS=2 "$RRAE" run "$data/$name.rrae" --device cpu -q --out "$OUT/$name" > "$OUT/$name.log" 2>&1
  grid=$(param "$OUT/$name/metrics.json")
  n=$("$PY" -c "import numpy as np,sys; print(len(np.load(sys.argv[1])))" "$data/data/$( [ $name = mult_freqs_scattered ] && echo scatter || echo $name)_params_train.npy")
  if [ "$name" = mult_freqs_scattered ]; then
    rbf=$grid; grid="—"; what="$n scattered"
  else
    RRAE_INTERPOLATE=rbf "$RRAE" eval "$OUT/$name" --device cpu > "$OUT/$name-rbf.log" 2>&1
    rbf=$(param "$OUT/$name/eval.json"); what="$n on a grid"
  fi
  echo "| $name | $what | $grid | $rbf | $(( $(date +%s) - t0 )) |"
done
