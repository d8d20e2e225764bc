#!/usr/bin/env bash
# rrae against PyTorch, side by side in one run, on the same machine and thread count.
# Each row times one step of a model on both sides: `rrae bench --phase P` and
# bench/torch_step.py --phase P, the same network and batch (the parameter counts are
# compared, and a mismatch stops the run). Each side reports the median of STEPS timed
# steps after 3 warm-up steps; the two sides alternate ROUNDS times and the medians of
# the rounds are compared, so a burst of load on the machine hits both. PyTorch is
# installed with pip into target/torch-venv on first use (bench/torch_venv.sh; never the
# default Python).
#
#   bench/compare_torch.sh            # (a) the bumps model, (b) the MNIST model
#   bench/compare_torch.sh --sweep    # and the paper's Appendix C network, batches 16 and
#                                     # 256, a 3-channel 32×32 input, the fine-tuning step
#                                     # and inference; ends with a Markdown table
#   RRAE=/path/to/rrae bench/compare_torch.sh   # time another build (e.g. before a change)
#   AUTHORS=0 bench/compare_torch.sh  # without the authors' packages' rows after (a)
#
# After (a), the authors' own packages time the same network and batch through their own
# trainers: rraestorch (their PyTorch port) and rraes (their JAX library), each installed
# on first use into its own environment under target/ (bench/authors/venv.sh).
#
# THREADS=2 STEPS=20 ROUNDS=3 by default. Needs ../shared/data/mnist for (b). The FP32
# peak in the table is cores × nominal MHz (from /proc/cpuinfo) × 32 FLOP per cycle (two
# 256-bit FMA pipes, or one 512-bit); a CPU boosting above its nominal clock can exceed it.
set -euo pipefail
cd "$(dirname "$0")/.."
sweep=0
if [ "${1:-}" = "--sweep" ]; then sweep=1; fi
THREADS=${THREADS:-2}
STEPS=${STEPS:-20}
ROUNDS=${ROUNDS:-3}
venv=target/torch-venv
bench/torch_venv.sh -c ""  # makes the environment on first use
if [ -z "${RRAE:-}" ]; then
    cargo build -q --release -p rrae
fi
RRAE=${RRAE:-./target/release/rrae}
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
mhz=$(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2 | xargs)
peak=$(awk "BEGIN {print $THREADS * $mhz * 32 / 1000}")
echo "rrae: $RRAE"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), ${mhz} MHz; FP32 peak of $THREADS cores: $peak GFLOP/s"
echo "torch: $("$venv/bin/python" -c 'import torch; print(torch.__version__)'), threads: $THREADS, steps per round: $STEPS, rounds: $ROUNDS"
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p"; }
table=()
# compare NAME FILE PHASE [torch_step.py arguments…]
compare() {
    local name=$1 file=$2 phase=$3; shift 3
    local rs=() ts=() line gf mem tmem rp tp
    for _ in $(seq "$ROUNDS"); do
        line=$("$RRAE" bench "$file" --steps "$STEPS" --phase "$phase" --json)
        rs+=("$(echo "$line" | field median_ms)")
        gf=$(echo "$line" | field gflop_per_step)
        mem=$(echo "$line" | field peak_rss_mib)
        rp=$(echo "$line" | field params)
        line=$("$venv/bin/python" bench/torch_step.py --steps "$STEPS" --threads "$THREADS" --phase "$phase" "$@" | tr -d ' ')
        tp=$(echo "$line" | field params)
        if [ "$rp" != "$tp" ]; then
            echo "$name: the models differ: rrae has $rp parameters, PyTorch $tp" >&2
            exit 1
        fi
        ts+=("$(echo "$line" | field median_ms)")
        tmem=$(echo "$line" | field peak_rss_mib)
    done
    local r t ratio gflops frac
    r=$(printf '%s\n' "${rs[@]}" | median)
    t=$(printf '%s\n' "${ts[@]}" | median)
    ratio=$(awk "BEGIN {printf \"%.2f\", $r / $t}")
    gflops=$(awk "BEGIN {printf \"%.1f\", $gf / ($r / 1000)}")
    frac=$(awk "BEGIN {printf \"%.0f\", 100 * $gflops / $peak}")
    printf '%-50s rrae %7.1f ms  pytorch %7.1f ms  ratio %s  (rrae %s GFLOP/s, %s %% of peak; peak memory rrae %.0f MiB, pytorch %.0f MiB; rounds rrae %s, pytorch %s)\n' \
        "$name" "$r" "$t" "$ratio" "$gflops" "$frac" "$mem" "$tmem" \
        "$(printf '%.0f ' "${rs[@]}")" "$(printf '%.0f ' "${ts[@]}")"
    table+=("| $name | $(printf '%.1f' "$r") | $(printf '%.1f' "$t") | $ratio | $gflops | $frac % |")
    last_rrae=$r
}
# authors PROGRAM: the authors' own package (bench/authors/venv.sh) timing its training step
# on (a)'s network and batch through its own trainer (bench/authors/bumps.py --time-only;
# the median of the step times it prints), against rrae's (a) median just measured.
authors() {
    local program=$1 py line ms ver
    py=$(bench/authors/venv.sh "$program")
    line=$("$py" bench/authors/bumps.py --program "$program" --time-only "$STEPS" --threads "$THREADS" | tr -d ' \n')
    ms=$(echo "$line" | field median_ms_per_step)
    ver=$(echo "$line" | sed -n "s/.*\"$program\":\"\([^\"]*\)\".*/\1/p")
    printf '%-50s rrae %7.1f ms  %s %s %7.1f ms  ratio %s\n' "(a) against the authors' $program" "$last_rrae" \
        "$program" "$ver" "$ms" "$(awk "BEGIN {printf \"%.3f\", $last_rrae / $ms}")"
    table+=("| (a) the authors' $program $ver, same network and batch | $(printf '%.1f' "$last_rrae") | $(printf '%.1f' "$ms") ($program) | $(awk "BEGIN {printf \"%.3f\", $last_rrae / $ms}") | | |")
}
compare "(a) bumps 1x64x64, batch 64, L 64, k 2" models/rrae.rrae train --size 64 --batch 64 --latent 64 --k 2
if [ "${AUTHORS:-1}" = 1 ]; then
    authors rraestorch
    authors rraes
fi
compare "(b) MNIST 1x28x28, batch 32, L 64, k 16" examples/mnist.rrae train --size 28 --batch 32 --latent 64 --k 16
if [ "$sweep" = 1 ]; then
    if [ ! -f target/bench/rgb32.npy ]; then "$venv/bin/python" bench/make_rgb32.py; fi
    appc=(--size 64 --batch 64 --latent 200 --k 2 --enc-widths 32,64 --dec-widths 256,128,32,8 --channels 300)
    compare "(c) Appendix C network, bumps 1x64x64, batch 64" bench/models/appendix_c.rrae train "${appc[@]}"
    compare "(d) bumps, batch 16" bench/models/bumps_b16.rrae train --size 64 --batch 16 --latent 64 --k 2
    compare "(e) bumps, batch 256" bench/models/bumps_b256.rrae train --size 64 --batch 256 --latent 64 --k 2
    compare "(f) 3x32x32 colour input, batch 64, k 8" bench/models/rgb32.rrae train --size 32 --in-ch 3 --batch 64 --latent 64 --k 8
    compare "(g) bumps, fine-tuning step" models/rrae.rrae fine-tune --size 64 --batch 64 --latent 64 --k 2
    compare "(h) Appendix C network, fine-tuning step" bench/models/appendix_c.rrae fine-tune "${appc[@]}"
    compare "(i) bumps, inference of a batch of 64" models/rrae.rrae inference --size 64 --batch 64 --latent 64 --k 2
    echo
    echo "| case | rrae ms | PyTorch ms | ratio | rrae GFLOP/s | of FP32 peak |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${table[@]}"
    printf '%s\n' "${table[@]}" | awk -F'|' '{print $5}' | median | xargs printf 'median ratio: %.2f\n'
fi
