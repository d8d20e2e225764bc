#!/usr/bin/env bash
# The authors' packages on the bumps, as reference rows of docs/results.md (issue 38).
#
#   bash bench/authors/run.sh                       # rraestorch, RRAE and aRRAE, seeds 0-2
#   PROGRAMS="rraes" MODELS="rrae" SEEDS="0" bash bench/authors/run.sh
#   python3 bench/authors/table.py                  # the table from runs/authors/*.json
#
# One run at a time, THREADS=1 by default. A finished run (its JSON present) is kept, so
# the script resumes where it stopped. `rraes` (JAX) takes about 5 s a step at batch 64
# on this machine's CPU, so its full runs are for a faster machine; its step time is in
# bench/compare_torch.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p runs/authors
for program in ${PROGRAMS:-rraestorch}; do
    py=$(bench/authors/venv.sh "$program")
    for model in ${MODELS:-rrae arrae}; do
        for seed in ${SEEDS:-0 1 2}; do
            out=runs/authors/$program-$model-s$seed.json
            [ -f "$out" ] && continue
            "$py" bench/authors/bumps.py --program "$program" --model "$model" --seed "$seed" \
                --threads "${THREADS:-1}" --out "$out" > /dev/null
            echo "$program $model seed $seed: $(grep -o '"wall_seconds": [0-9.]*' "$out")"
        done
    done
done
