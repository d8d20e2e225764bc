#!/usr/bin/env bash
# Table 2 at full FID size, the CPU half: the image zoos (models/mnist/*.rrae and
# models/fashion_mnist/*.rrae, unchanged but for an eval block) trained here, each run
# evaluated on 10,000 interpolated images (2000 training pairs x 5 points) and 10,000
# random samples against the 10,000 test images, with --save-images so that the standard
# FID can be computed elsewhere on exactly these images (bench/table2/pack.py, then
# bench/table2/device.sh on a machine with a GPU and PyTorch).
#
#   bash bench/table2/run.sh [DATASET ...]     # mnist fashion_mnist (default both)
#
# Writes runs/table2/DATASET/{MODEL,compare}; a finished run (metrics.json present) is
# kept, so the script resumes where it stopped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rrae=${RRAE:-$root/target/release/rrae}
shared=$(cd "$root/.." && pwd)/shared
# MODELS: the files to run (default: the five of the paper's Table 2); bench/variational/run.sh
# adds the VAE, VRRAE and LoRAE rows.
models=${MODELS:-"rrae long diabolo irmae arrae"}
for ds in "${@:-mnist fashion_mnist}"; do
    out=$root/runs/table2/$ds
    mkdir -p "$out/files"
    runs=()
    for m in $models; do
        src=$root/models/$ds/$m.rrae
        file=$out/files/$m.rrae
        # The data paths are relative to the model file: make them absolute. The eval
        # block is the only other change.
        sed "s#\"\(\.\./\)*shared/#\"$shared/#g" "$src" > "$file.tmp"
        printf '\neval {\n    interpolation_pairs = 2000\n    interpolation_points = 5\n    random_samples = 10000\n}\n' >> "$file.tmp"
        mv "$file.tmp" "$file"
        if [ ! -f "$out/$m/metrics.json" ]; then
            rm -rf "$out/$m"
            "$rrae" run "$file" --out "$out/$m" --save-images --quiet
        fi
    done
    # The comparison holds every finished run of the folder, in the tables' order.
    for m in rrae long diabolo irmae arrae vae vrrae lorae; do
        [ -f "$out/$m/metrics.json" ] && runs+=("$out/$m")
    done
    "$rrae" compare "${runs[@]}" --out "$out/compare"
done
