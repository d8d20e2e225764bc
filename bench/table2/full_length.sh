#!/usr/bin/env bash
# Table 2's aRRAE at the paper's budget (issue 38): models/{mnist,fashion_mnist}/arrae.rrae
# unchanged but for the step budget (`--steps 20000`: the training phase's cap, which the
# search's own stopping rule usually ends sooner), the search (`--set latent.search=S`) and an
# eval block of 2000 interpolation pairs x 5 points and 10,000 random samples, as
# bench/table2/run.sh evaluates the zoo. One run at a time, one thread each by default
# (THREADS=N to change), so that the machine stays usable.
#
#   bash bench/table2/full_length.sh [SEARCH ...]      # default: decreasing
#   DATASETS="mnist" SEEDS="0 1" bash bench/table2/full_length.sh library
#   python3 bench/table2/full_length_table.py          # the table in docs/results.md
#
# Writes runs/table2-full/DATASET/SEARCH-sSEED; a finished run (metrics.json present) is kept,
# so rerunning the script resumes where it stopped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rrae=${RRAE:-$root/target/release/rrae}
shared=$(cd "$root/.." && pwd)/shared
threads=${THREADS:-1}
for search in "${@:-decreasing}"; do
    # The library's rule runs with the library's running mean (20 losses), not the
    # files' Algorithm 1 window of 250.
    extra=()
    [ "$search" = library ] && extra=(--set latent.window=20)
    for ds in ${DATASETS:-mnist fashion_mnist}; do
        out=$root/runs/table2-full/$ds
        mkdir -p "$out/files"
        file=$out/files/arrae.rrae
        sed "s#\"\(\.\./\)*shared/#\"$shared/#g" "$root/models/$ds/arrae.rrae" > "$file.tmp"
        printf '\neval {\n    interpolation_pairs = 2000\n    interpolation_points = 5\n    random_samples = 10000\n}\n' >> "$file.tmp"
        mv "$file.tmp" "$file"
        for seed in ${SEEDS:-0 1 2}; do
            run=$out/$search-s$seed
            [ -f "$run/metrics.json" ] && continue
            start=$(date +%s)
            if [ -f "$run/checkpoint.safetensors" ] || [ -f "$run/command.json" ]; then
                RAYON_NUM_THREADS=$threads "$rrae" run --resume "$run" --quiet
            else
                rm -rf "$run"
                RAYON_NUM_THREADS=$threads "$rrae" run "$file" --steps 20000 --seed "$seed" \
                    --set "latent.search=$search" "${extra[@]}" --out "$run" --quiet
            fi
            echo "$ds $search seed $seed: $(( $(date +%s) - start )) s" | tee -a "$out/walls.txt"
        done
    done
done
