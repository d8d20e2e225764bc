#!/usr/bin/env bash
# rrae against PyTorch, side by side in one run, on the same machine and thread count:
# one full training step (forward, truncated SVD, loss, backward, Adam) of
#   (a) the paper's bumps model: models/rrae.rrae, 1x64x64, batch 64, L = 64, k = 2;
#   (b) the MNIST model: examples/mnist.rrae, 1x28x28, batch 32, L = 64, k = 16.
# Each side reports the median of STEPS timed steps after 3 warm-up steps; the two sides
# alternate ROUNDS times and the medians of the rounds are compared, so a burst of load
# on the machine hits both. PyTorch is installed with pip into target/torch-venv on first
# use (never the default Python). Needs ../shared/data/mnist for (b).
#
#   bench/compare_torch.sh            # THREADS=2 STEPS=20 ROUNDS=3 by default
#   RRAE=/path/to/rrae bench/compare_torch.sh   # time another build (e.g. before a change)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
STEPS=${STEPS:-20}
ROUNDS=${ROUNDS:-3}
venv=target/torch-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch numpy
fi
if [ -z "${RRAE:-}" ]; then
    cargo build -q --release -p rrae
fi
RRAE=${RRAE:-./target/release/rrae}
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
echo "rrae: $RRAE"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "torch: $("$venv/bin/python" -c 'import torch; print(torch.__version__)'), threads: $THREADS, steps per round: $STEPS, rounds: $ROUNDS"
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p"; }
compare() {
    local name=$1 file=$2; shift 2
    local r t rs=() ts=() line
    for _ in $(seq "$ROUNDS"); do
        line=$("$RRAE" bench "$file" --steps "$STEPS" --json)
        rs+=("$(echo "$line" | field median_ms)")
        gf=$(echo "$line" | field gflop_per_step)
        mem=$(echo "$line" | field peak_rss_mib)
        rp=$(echo "$line" | field params)
        line=$("$venv/bin/python" bench/torch_step.py --steps "$STEPS" --threads "$THREADS" "$@" | tr -d ' ')
        tp=$(echo "$line" | field params)
        if [ "$rp" != "$tp" ]; then
            echo "$name: the models differ: rrae has $rp parameters, PyTorch $tp" >&2
            exit 1
        fi
        ts+=("$(echo "$line" | field median_ms)")
        tmem=$(echo "$line" | field peak_rss_mib)
    done
    r=$(printf '%s\n' "${rs[@]}" | median)
    t=$(printf '%s\n' "${ts[@]}" | median)
    printf '%-44s rrae %7.1f ms  pytorch %7.1f ms  ratio %.2f  (rrae %.1f GFLOP/s; peak memory rrae %.0f MiB, pytorch %.0f MiB; rounds rrae %s, pytorch %s)\n' \
        "$name" "$r" "$t" "$(awk "BEGIN {print $r / $t}")" "$(awk "BEGIN {print $gf / ($r / 1000)}")" "$mem" "$tmem" \
        "$(printf '%.0f ' "${rs[@]}")" "$(printf '%.0f ' "${ts[@]}")"
}
compare "(a) bumps 1x64x64, batch 64, L 64, k 2" models/rrae.rrae --size 64 --batch 64 --latent 64 --k 2
compare "(b) MNIST 1x28x28, batch 32, L 64, k 16" examples/mnist.rrae --size 28 --batch 32 --latent 64 --k 16
