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
python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --dest "$tmp/wheel" 'nvidia-cuda-nvrtc>=13,<14'
python3 -m zipfile -e "$tmp"/wheel/*.whl "$tmp/unpacked"
lib=$(dirname "$(find "$tmp/unpacked" -name 'libnvrtc.so.*' | head -n 1)")
[ -d "$lib" ] || { echo "error: the wheel holds no libnvrtc.so" >&2; exit 1; }
mkdir -p "$tmp/home"
mv "$lib" "$tmp/home/lib"
# The folder appears whole or not at all: a second test process waits for nothing.
rm -rf "$home"
mv "$tmp/home" "$home"
echo "installed NVRTC into $home/lib"
