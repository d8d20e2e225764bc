#!/usr/bin/env bash
# Makes NCCL's library openable by rrae and prints the folder to put in LD_LIBRARY_PATH.
# cudarc opens `libnccl.so` (or libnccl.so.13, …), but the PyPI wheel nvidia-nccl-cu13,
# which PyTorch environments carry, installs only `libnccl.so.2`: this links it under
# the name cudarc opens, in target/nccl/lib.
#   LD_LIBRARY_PATH=$(bench/nccl_lib.sh)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} mpirun ... rrae run ... --device cuda
# Looks, in order: $NCCL_LIB (a libnccl.so.2 file), the nvidia packages of the Python
# given as $1 (default python3), /usr/lib/x86_64-linux-gnu; with none, downloads the
# wheel from PyPI (about 200 MB) and unpacks its library there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${1:-python3}
dest=$root/target/nccl/lib
found=${NCCL_LIB:-}
if [ -z "$found" ]; then
    found=$("$py" - <<'PY' 2>/dev/null || true
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except ImportError:
    roots = []
hits = [p for r in roots for p in sorted(glob.glob(os.path.join(r, "**", "libnccl.so*"), recursive=True))]
print(hits[0] if hits else "")
PY
)
fi
if [ -z "$found" ]; then
    found=$(ls /usr/lib/x86_64-linux-gnu/libnccl.so.2 2>/dev/null || true)
fi
mkdir -p "$dest"
if [ -z "$found" ]; then
    tmp=$(mktemp -d "$root/target/nccl-install.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-cache-dir \
        --only-binary=:all: --dest "$tmp" 'nvidia-nccl-cu13' >&2
    python3 - "$tmp"/*.whl "$dest" <<'PY'
import os, shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    libs = [m for m in z.namelist() if os.path.basename(m).startswith("libnccl.so")]
    if not libs:
        sys.exit("error: the wheel holds no libnccl.so")
    with z.open(libs[0]) as src, open(os.path.join(dest, "libnccl.so.2"), "wb") as out:
        shutil.copyfileobj(src, out)
PY
    found=$dest/libnccl.so.2
fi
[ -f "$found" ] || { echo "error: $found is not a file" >&2; exit 1; }
ln -sf "$found" "$dest/libnccl.so"
echo "$dest"
