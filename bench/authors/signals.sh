#!/usr/bin/env bash
# The authors' packages on examples/signals (shift and mult_freqs) with their main-MLP.py
# recipe, measured with rrae's metrics (bench/authors/signals.py), beside rrae's own runs.
#
#   bash bench/authors/signals.sh             # rraestorch and rraes, both problems, seeds 0-2
#   PROGRAMS=rraestorch PROBLEMS=mult_freqs SEEDS=0 bash bench/authors/signals.sh
#
# Writes runs/authors/signals/PROGRAM-PROBLEM-sSEED.json; a finished run is kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f examples/signals/data/mult_freqs_train.npy ] || "$(bench/authors/venv.sh rraestorch)" examples/signals/make_data.py
mkdir -p runs/authors/signals
for program in ${PROGRAMS:-rraestorch rraes}; do
    py=$(bench/authors/venv.sh "$program")
    for problem in ${PROBLEMS:-mult_freqs shift}; do
        for seed in ${SEEDS:-0 1 2}; do
            out=runs/authors/signals/$program-$problem-s$seed.json
            [ -f "$out" ] && continue
            "$py" bench/authors/signals.py --program "$program" --problem "$problem" --seed "$seed" \
                --threads "${THREADS:-1}" --out "$out" > /dev/null
            echo "$program $problem seed $seed: $(grep -o '"test_error_parametric": [0-9.]*' "$out"), $(grep -o '"wall_seconds": [0-9.]*' "$out")"
        done
    done
done
