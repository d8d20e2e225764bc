#!/usr/bin/env bash
# Table 2's standard FIDs on a lent GPU machine (docs/results.md, "Table 2 at 10,000
# images"). Here: bash bench/table2/run.sh, then python bench/table2/pack.py (with
# RRAE_INCEPTION set). On the device, one call per part, each carrying one
# target/table2-gpu/part-NN (and the first also SHA256), back to back while the machine
# is warm; every call runs this script, which says which parts are still missing, and
# the call that completes the set computes the FIDs (a few minutes on an H100) and
# writes $OUT/table2_fid.json. Arguments go to bench/table2/fid.py (--only, --limit);
# DEVICE=cpu PY=python3 TABLE2_DIR=... runs the same path on a CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-/opt/torch/.venv/bin/python}
d=${TABLE2_DIR:-target/table2-gpu}
ls -la "$d"
[ -f "$d/SHA256" ] || { echo "missing: $d/SHA256 (carry it with the first part)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$d"/part-* > "$tmp/t2.tar"
if ! echo "$(cat "$d/SHA256")  $tmp/t2.tar" | sha256sum -c --quiet - 2>/dev/null; then
    echo "incomplete: $(du -b "$tmp/t2.tar" | cut -f1) bytes so far; carry the next part"
    exit 0
fi
mkdir "$tmp/x" && tar -xf "$tmp/t2.tar" -C "$tmp/x" && rm "$tmp/t2.tar"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
mkdir -p "${OUT:-runs/table2}"
"$PY" bench/table2/fid.py "$tmp/x" --device "${DEVICE:-cuda}" --json "${OUT:-runs/table2}/table2_fid.json" "$@"
