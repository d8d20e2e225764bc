#!/usr/bin/env bash
# The truncated SVD op, rrae against torch.linalg.svd with autograd, in one run on this
# machine: forward (thin SVD in f64 and the rank-k projection) and backward (rrae's
# stable backward; torch's SVD gradient), median ms, at each size of svd_bench. rrae's
# SVD is one thread (bits must not depend on the thread count); torch runs on 1 thread
# and on every core. `bench/svd_compare.sh [LxB ...]`; PyTorch comes from
# bench/torch_venv.sh's private environment.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p rrae-engine --example svd_bench
cores=$(nproc)
echo "== rrae (one thread)"
RAYON_NUM_THREADS=1 target/release/examples/svd_bench "$@"
echo "== torch.linalg.svd, 1 thread"
bench/torch_venv.sh bench/torch_svd.py --threads 1 "$@"
echo "== torch.linalg.svd, $cores threads"
bench/torch_venv.sh bench/torch_svd.py --threads "$cores" "$@"
