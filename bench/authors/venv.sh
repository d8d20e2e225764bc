#!/usr/bin/env bash
# The authors' packages, each in its own private virtual environment under target/ (never
# the default Python), made on first use; prints the environment's python.
#
#   bench/authors/venv.sh rraes         # target/rraes-venv: rraes 0.1.0 (JAX, Equinox, Optax)
#   bench/authors/venv.sh rraestorch    # target/rraestorch-venv: rraestorch 0.1.13
#
# rraestorch shares the torch of bench/torch_venv.sh's target/torch-venv through a .pth
# file rather than downloading a second copy (torch with its CUDA libraries is gigabytes),
# and takes torchvision --no-deps (it imports only torchvision.ops.MLP); PyPI's newest
# torchvision, 0.29.2, was built against the torch before 2.15 and imports cleanly.
set -euo pipefail
cd "$(dirname "$0")/../.."
case "${1:-}" in
rraes)
    venv=target/rraes-venv
    if ! "$venv/bin/python" -c "import RRAEs" 2>/dev/null; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q rraes==0.1.0 >&2
    fi
    ;;
rraestorch)
    venv=target/rraestorch-venv
    if ! "$venv/bin/python" -c "import RRAEsTorch, torchvision" 2>/dev/null; then
        bench/torch_venv.sh -c "" >&2
        python3 -m venv "$venv"
        sp=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
        target/torch-venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > "$sp/torch-venv.pth"
        "$venv/bin/pip" install -q --no-deps torchvision==0.29.2 rraestorch==0.1.13 >&2
        "$venv/bin/pip" install -q dill jaxtyping matplotlib pandas prettytable tqdm >&2
    fi
    ;;
*)
    echo "usage: bench/authors/venv.sh rraes|rraestorch" >&2
    exit 2
    ;;
esac
echo "$venv/bin/python"
