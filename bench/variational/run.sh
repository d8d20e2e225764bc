#!/usr/bin/env bash
# The variational family's results (issue 39, docs/results.md "The authors' whole
# family"): the VAE, VRRAE and LoRAE beside the RRAE, each one line from it.
#
#   bash bench/variational/run.sh bumps     # Table 1: models/{rrae,vae,vrrae,lorae}.rrae,
#                                           # WIDTHS (library appendix_c) x SEEDS (0 1 2);
#                                           # MODELS=vrrae_trainable: vrrae.rrae, mean = trainable
#   bash bench/variational/run.sh images    # Table 2: models/{mnist,fashion_mnist}/{vae,vrrae,lorae}.rrae
#                                           # through bench/table2/run.sh (10,000 images each)
#   python3 bench/variational/table.py      # the tables from the run folders
#
# Bumps runs go to runs/variational/bumps/WIDTH-MODEL-sSEED, one at a time with THREADS
# threads (default 1); a finished run (metrics.json present) is kept, so rerunning
# resumes. Their wall times go to runs/variational/bumps/walls.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rrae=${RRAE:-$root/target/release/rrae}
case ${1:-bumps} in
bumps)
    out=$root/runs/variational/bumps
    mkdir -p "$out/files"
    for width in ${WIDTHS:-library appendix_c}; do
        for model in ${MODELS:-rrae vae vrrae lorae}; do
            file=$out/files/$width-$model.rrae
            case $model in
            # The VRRAE with the library's typ = "trainable": models/vrrae.rrae, one option on.
            vrrae_trainable)
                sed 's/vrrae(k = 2, beta = 0.001)/vrrae(k = 2, beta = 0.001, mean = trainable)/' \
                    "$root/models/vrrae.rrae" > "$file.tmp"
                grep -q "mean = trainable" "$file.tmp" || { echo "models/vrrae.rrae has no vrrae line" >&2; exit 1; }
                ;;
            *) cp "$root/models/$model.rrae" "$file.tmp" ;;
            esac
            if [ "$width" = appendix_c ]; then
                sed -i -e 's/cnn_encoder(/paper_encoder(/' -e 's/cnn_decoder(/paper_decoder(/' "$file.tmp"
                grep -q "paper_encoder(" "$file.tmp" || { echo "models/$model.rrae has no cnn_encoder line" >&2; exit 1; }
            fi
            mv "$file.tmp" "$file"
            for seed in ${SEEDS:-0 1 2}; do
                run=$out/$width-$model-s$seed
                [ -f "$run/metrics.json" ] && continue
                rm -rf "$run"
                start=$(date +%s)
                RAYON_NUM_THREADS=${THREADS:-1} "$rrae" run "$file" --seed "$seed" --out "$run" --quiet > /dev/null
                echo "$width $model seed $seed: $(( $(date +%s) - start )) s" | tee -a "$out/walls.txt"
            done
        done
    done
    ;;
images)
    MODELS="${MODELS:-vae vrrae lorae}" bash "$root/bench/table2/run.sh" ${DATASETS:-mnist fashion_mnist}
    ;;
*)
    echo "usage: bench/variational/run.sh bumps|images" >&2
    exit 2
    ;;
esac
