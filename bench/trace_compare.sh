#!/usr/bin/env bash
# A restructure's proof: the same short CPU runs with two rrae binaries, compared.
#
#   bash bench/trace_compare.sh OLD_RRAE NEW_RRAE [OUT_DIR]
#
# For each run: losses.csv without its wall-time column (phase, step, k, loss) and
# decisions.jsonl compared with cmp, model.safetensors tensor by tensor (its metadata
# is a map whose order varies), metrics.json key by key less the timings (keys only the
# new build writes are listed, not compared). Exit 1 if anything differs. About 4 minutes per binary on 2 cores.
set -u
OLD=$1; NEW=$2; OUT=${3:-target/trace-compare}
cd "$(dirname "$0")/.."
runs=(
  "examples/quickstart.rrae 200 50"
  "examples/mnist.rrae 50 10"
  "examples/mlp_bumps.rrae 200 50"
  "models/rrae.rrae 20 5"
  "models/sparse.rrae 40 10"
  "models/contractive.rrae 40 10"
  "models/irmae.rrae 40 10"
  "models/arrae.rrae 60 10"
  "bench/trace_kinds.rrae 100 20"
)
mkdir -p "$OUT/old" "$OUT/new"
status=0
for r in "${runs[@]}"; do
  set -- $r
  name=$(basename "$(dirname "$1")")-$(basename "$1" .rrae)
  for which in old new; do
    bin=$OLD; [ $which = new ] && bin=$NEW
    rm -rf "$OUT/$which/$name"
    RAYON_NUM_THREADS=2 "$bin" run "$1" --steps "$2" --fine-tune-steps "$3" --device cpu -q \
      --out "$OUT/$which/$name" > "$OUT/$which-$name.log" 2>&1 || echo "$which $name: exit $?"
  done
  python3 - "$OUT/old/$name" "$OUT/new/$name" "$name" <<'PY' || status=1
import json, struct, sys
old, new, name = sys.argv[1:4]
def lines(p, cut=None):
    with open(p) as f:
        return [",".join(l.rstrip("\n").split(",")[:cut]) for l in f]
def tensors(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop("__metadata__", None)
    return h, b[8 + n:]
timing = lambda k: k.endswith("ms_per_step") or "wall" in k or "seconds" in k
ma, mb = (json.load(open(d + "/metrics.json")) for d in (old, new))
checks = {
    "losses.csv (phase,step,k,loss)": lines(old + "/losses.csv", 4) == lines(new + "/losses.csv", 4),
    "decisions.jsonl": lines(old + "/decisions.jsonl") == lines(new + "/decisions.jsonl"),
    "model.safetensors": tensors(old + "/model.safetensors") == tensors(new + "/model.safetensors"),
    # Keys both builds write; a key only the new build writes is a new field, listed.
    "metrics.json": all(ma.get(k) == mb.get(k) for k in set(ma) & set(mb) if not timing(k)),
}
added = sorted(set(mb) - set(ma))
print(f"{name}: {len(lines(new + '/losses.csv')) - 1} steps; " + "; ".join(f"{k} {'identical' if v else 'DIFFERS'}" for k, v in checks.items())
      + (f" (new in metrics.json: {', '.join(added)})" if added else ""))
sys.exit(0 if all(checks.values()) else 1)
PY
done
exit $status
