#!/usr/bin/env bash
# NVRTC without CUDA: the PyPI wheel nvidia-cuda-nvrtc (CUDA 13), unpacked into
# target/nvrtc, so that the test that compiles every CUDA kernel of the engine to PTX
# runs on a machine without a GPU or a CUDA toolkit (CI included). The test runs this
# itself when target/nvrtc/lib is missing; run it by hand to check the kernels with
#   LD_LIBRARY_PATH=target/nvrtc/lib cargo test -p rrae-engine kernels
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home=$root/target/nvrtc
if ls "$home"/lib/libnvrtc.so.* >/dev/null 2>&1; then
    exit 0
fi
tmp=$(mktemp -d "$root/target/nvrtc-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# No pip cache and no full unpack: the disk holds the wheel once and its two
# libraries, nothing more (CI's disk is small; the wheel's other files are headers).
python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-cache-dir \
    --only-binary=:all: --dest "$tmp/wheel" 'nvidia-cuda-nvrtc>=13,<14'
mkdir -p "$tmp/home/lib"
python3 - "$tmp"/wheel/*.whl "$tmp/home/lib" <<'PY'
import os, shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    libs = [m for m in z.namelist() if os.path.basename(m).startswith("libnvrtc")
            and ".so" in os.path.basename(m)]
    if not any(os.path.basename(m).startswith("libnvrtc.so") for m in libs):
        sys.exit("error: the wheel holds no libnvrtc.so")
    for m in libs:
        with z.open(m) as src, open(os.path.join(dest, os.path.basename(m)), "wb") as out:
            shutil.copyfileobj(src, out)
PY
rm -rf "$tmp/wheel"
# The folder appears whole or not at all: a second test process waits for nothing.
rm -rf "$home"
mv "$tmp/home" "$home"
echo "installed NVRTC into $home/lib"
