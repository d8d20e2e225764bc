#!/usr/bin/env bash
# docs/scaling.md's measured table: the per-step time of a run on this machine as one
# process with 2 threads, as 2 MPI ranks with 1 thread each, and as one process with 1
# thread on half the batch (what each rank computes), for the quickstart and the
# library-width bumps network. The difference between the 2-rank step and the
# half-batch step is the exchange and the work the ranks repeat (the SVD on the global
# batch, the loader). Needs `rrae` built with MPI:
#   CARGO_TARGET_DIR=target/mpi cargo build --release -p rrae --features mpi
set -euo pipefail
cd "$(dirname "$0")/.."
RRAE=${RRAE:-target/mpi/release/rrae}
OUT=${OUT:-target/scaling}
mkdir -p "$OUT"
median() { python3 -c "import json,sys; print('%.1f' % json.load(open(sys.argv[1]))['median_ms_per_step'])" "$1/metrics.json"; }
printf "model\tbatch\t1 process x 2 threads\t2 ranks x 1 thread\t1 process x 1 thread, half batch\n"
for spec in "examples/quickstart.rrae 32 300" "models/rrae.rrae 64 60"; do
  set -- $spec
  file=$1; batch=$2; steps=$3; name=$(basename "$file" .rrae)
  half="$OUT/$name-half.rrae"
  sed "s/batch = $batch/batch = $((batch / 2))/" "$file" > "$half"
  # Relative `use` and data paths resolve beside the original.
  cp "$half" "$(dirname "$file")/.scaling-half.rrae"
  RAYON_NUM_THREADS=2 $RRAE run "$file" --steps $steps --fine-tune-steps 1 --device cpu -q --out "$OUT/$name-1x2" > /dev/null
  RAYON_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np 2 -x RAYON_NUM_THREADS $RRAE run "$file" --steps $steps --fine-tune-steps 1 --device cpu -q --out "$OUT/$name-2x1" > /dev/null
  RAYON_NUM_THREADS=1 $RRAE run "$(dirname "$file")/.scaling-half.rrae" --steps $steps --fine-tune-steps 1 --device cpu -q --out "$OUT/$name-half" > /dev/null
  rm -f "$(dirname "$file")/.scaling-half.rrae"
  printf "%s\t%d\t%s ms\t%s ms\t%s ms\n" "$name" "$batch" "$(median "$OUT/$name-1x2")" "$(median "$OUT/$name-2x1")" "$(median "$OUT/$name-half")"
done
