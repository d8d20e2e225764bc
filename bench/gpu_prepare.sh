#!/usr/bin/env bash
# Builds what bench/gpu_check.sh runs on a lent GPU machine (which has no Rust
# toolchain) into target/gpu: the release `rrae`, the release test binary of
# rrae-engine (its ignored CPU/GPU parity tests), and the MNIST files the examples read.
# Then, through the device tool: command `bash bench/gpu_check.sh`, carry `target/gpu`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/gpu
mkdir -p "$out/data"
cargo build --release -p rrae
cp target/release/rrae "$out/rrae"
bin=$(cargo test --release -p rrae-engine --lib --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$bin" ] || { echo "error: no rrae-engine test binary was built" >&2; exit 1; }
cp "$bin" "$out/engine-tests"
# The NCCL check (one rank per GPU, no MPI needed).
cargo build --release -p rrae-engine --example nccl
cp target/release/examples/nccl "$out/nccl"
cp -r ../shared/data/mnist "$out/data/"
strip "$out/rrae" "$out/engine-tests" "$out/nccl" 2>/dev/null || true
du -sh "$out"
