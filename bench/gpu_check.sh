#!/usr/bin/env bash
# The GPU check (issue 22), one command for a lent device machine, after
# bench/gpu_prepare.sh here: `bash bench/gpu_check.sh` with target/gpu carried. Prints
#   0. the date, the GPU and the driver;
#   1. every op's forward and backward on the GPU against the CPU on the same inputs
#      (relative error, held to 1e-4), the SVD op on tall, wide, rank-deficient and
#      repeated-singular-value inputs;
#   2. the quickstart trained on the GPU and on the CPU, metrics side by side;
#   3. `rrae bench` on the GPU against PyTorch CUDA eager, same model and batch:
#      models/rrae.rrae, examples/mnist.rrae and the paper's Appendix C network, with
#      both sides' GPU memory;
#   4. the NCCL collective on this machine's GPUs (examples/nccl.rs: gathers, rank-order
#      sums, broadcast; one rank per GPU; one GPU makes a one-rank communicator);
#   5. examples/mnist_arrae.rrae on the GPU with the paper's 20,000-step budget.
# DEVICE=cpu runs the same script on the CPU (a dry run of its plumbing), QUICK=1
# shortens every run; PY names the Python with PyTorch (default: /opt/torch/.venv).
set -uo pipefail
cd "$(dirname "$0")/.."
G=${GPU_DIR:-target/gpu}
DEVICE=${DEVICE:-cuda}
PY=${PY:-/opt/torch/.venv/bin/python}
QUICK=${QUICK:-0}
RRAE=$G/rrae
steps() { if [ "$QUICK" = 1 ]; then echo "$2"; else echo "$1"; fi; }
# The CUDA libraries of the PyTorch wheels (cuBLAS, NVRTC), for rrae's dynamic loading.
libs=$("$PY" - <<'PYLIBS' 2>/dev/null
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except ImportError:
    roots = []
print(":".join(d for r in roots for d in sorted(glob.glob(os.path.join(r, "*", "lib"))) + sorted(glob.glob(os.path.join(r, "*", "*", "lib")))))
PYLIBS
)
export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The examples read ../shared/data/mnist (relative to the repository).
if [ ! -d ../shared/data/mnist ] && [ -d "$G/data/mnist" ]; then
    mkdir -p ../shared/data && cp -r "$G/data/mnist" ../shared/data/
fi
tmp=$(mktemp -d)
echo "== 0. machine"
date -u '+%Y-%m-%d %H:%M UTC'
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")'

echo "== 1. every op on the GPU against the CPU (relative error; 1e-4 allowed)"
if [ "$DEVICE" = cuda ]; then
    timeout 240 "$G/engine-tests" --ignored --nocapture --test-threads=1 device::cuda::parity 2>&1 \
        | grep -E '^parity|test result|panicked|FAILED|needs a CUDA'
else
    echo "(DEVICE=cpu: skipped)"
fi

echo "== 2. the quickstart on the GPU and on the CPU"
qs=$(steps 3000 200)
for d in "$DEVICE" cpu; do
    # metrics.json holds each run's wall time; the comparison below prints it.
    timeout 300 "$RRAE" run examples/quickstart.rrae --device "$d" \
        --steps "$qs" --out "$tmp/quick-$d" -q 2>&1 | grep -E '^device|error'
done
"$PY" - "$tmp/quick-$DEVICE/metrics.json" "$tmp/quick-cpu/metrics.json" <<'PYCMP'
import json, sys
g, c = (json.load(open(p)) for p in sys.argv[1:3])
print(f"{'metric':<36} {'GPU':>10} {'CPU':>10}")
ok = True
for k in ["train_error", "test_error", "interpolation_error", "test_error_parametric"]:
    a, b = g["metrics"].get(k), c["metrics"].get(k)
    if a is None or b is None:
        continue
    # Training is chaotic in the last bits: the two devices round sums in different
    # orders, so the tolerance is on the result, 0.5 points or 10 % of it.
    near = abs(a - b) <= max(0.5, 0.1 * abs(b))
    ok &= near
    print(f"{k:<36} {a:>10.3f} {b:>10.3f}  {'within' if near else 'OUTSIDE'} max(0.5, 10 %)")
print(f"{'median ms/step':<36} {g['median_ms_per_step']:>10.2f} {c['median_ms_per_step']:>10.2f}")
print(f"{'wall s':<36} {g['wall_seconds']:>10.1f} {c['wall_seconds']:>10.1f}")
print("quickstart:", "GPU and CPU agree" if ok else "GPU and CPU DISAGREE")
PYCMP

echo "== 3. rrae bench on $DEVICE against PyTorch eager on $DEVICE (median ms per training step)"
field() { sed -n "s/.*\"$1\": *\([0-9.e+-]*\|null\).*/\1/p"; }
bs=$(steps 50 5)
bench() {
    local name=$1 file=$2; shift 2
    local r t
    r=$(timeout 120 "$RRAE" bench "$file" --device "$DEVICE" --steps "$bs" --warmup 10 --json 2>/dev/null)
    t=$(timeout 120 "$PY" bench/torch_step.py --device "$DEVICE" --steps "$bs" --warmup 10 --threads 16 "$@")
    local rm tm rg tg
    rm=$(echo "$r" | tr -d ' ' | field median_ms); tm=$(echo "$t" | tr -d ' ' | field median_ms)
    rg=$(echo "$r" | tr -d ' ' | field gpu_mib); tg=$(echo "$t" | tr -d ' ' | field gpu_mib)
    rg=${rg:-n/a}; tg=${tg:-n/a}
    if [ -z "$rm" ] || [ -z "$tm" ]; then
        echo "$name: a side failed: rrae [$r] pytorch [$t]"
        return
    fi
    printf '%-44s rrae %8.2f ms  pytorch %8.2f ms  ratio %s  GPU memory rrae %s MiB, pytorch %s MiB\n' \
        "$name" "$rm" "$tm" "$(awk "BEGIN {printf \"%.2f\", $rm / $tm}")" "$rg" "$tg"
}
bench "(a) bumps 1x64x64, batch 64, L 64, k 2" models/rrae.rrae --size 64 --batch 64 --latent 64 --k 2
bench "(b) MNIST 1x28x28, batch 32, L 64, k 16" examples/mnist.rrae --size 28 --batch 32 --latent 64 --k 16
bench "(c) Appendix C network, batch 64, L 200" bench/models/appendix_c.rrae --size 64 --batch 64 \
    --latent 200 --k 2 --enc-widths 32,64 --dec-widths 256,128,32,8 --channels 300

echo "== 4. NCCL: the collectives' check over NCCL, one rank per GPU"
if [ "$DEVICE" = cuda ]; then
    nccl_dir=$(bash bench/nccl_lib.sh "$PY" 2>&1 | tail -n 1)
    echo "libnccl.so linked in $nccl_dir"
    LD_LIBRARY_PATH="$nccl_dir:$LD_LIBRARY_PATH" timeout 120 "$G/nccl" 2>&1 | tail -n 20
    echo "nccl exit: ${PIPESTATUS[0]}"
    gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
    if [ "$gpus" -ge 2 ] && command -v mpirun >/dev/null && [ -x "$G/rrae-mpi" ]; then
        LD_LIBRARY_PATH="$nccl_dir:$LD_LIBRARY_PATH" timeout 300 mpirun --allow-run-as-root -np 2 \
            "$G/rrae-mpi" run examples/quickstart.rrae --device cuda --steps "$qs" --out "$tmp/quick-nccl" -q 2>&1 | tail -n 6
    else
        echo "(2-rank quickstart over NCCL: needs 2 GPUs, mpirun and target/gpu/rrae-mpi; this machine has $gpus GPU(s))"
    fi
else
    echo "(DEVICE=cpu: skipped)"
fi

echo "== 5. examples/mnist_arrae.rrae on $DEVICE, 20,000-step budget"
as=$(steps 20000 300)
af=$(steps 2000 50)
timeout 420 "$RRAE" run examples/mnist_arrae.rrae --device "$DEVICE" \
    --steps "$as" --fine-tune-steps "$af" --out "$tmp/arrae" -q 2>&1 | grep -vE '^step ' | tail -n 12
rm -rf "$tmp"
