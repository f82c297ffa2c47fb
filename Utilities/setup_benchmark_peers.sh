#!/usr/bin/env bash
# Build the separate environment in which Testing/benchmarks/benchmark_peers.py runs the peer
# libraries (osipy needs Python >= 3.12). Never a test dependency of the project.
#
#   Utilities/setup_benchmark_peers.sh [ENV_DIR] [PYTHON]
#   defaults: ENV_DIR=/tmp/venv-peers, PYTHON=the newest pyenv 3.12, else python3.12 on PATH
set -euo pipefail
env_dir="${1:-/tmp/venv-peers}"
python="${2:-}"
if [ -z "$python" ]; then
  python="$(ls -d "$HOME"/.pyenv/versions/3.12*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$python" ] || python="$(command -v python3.12 || true)"
fi
if [ -z "$python" ] || ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
  echo "setup_benchmark_peers: need Python >= 3.12 for osipy (pass it as the second argument)" >&2
  exit 1
fi
"$python" -m venv "$env_dir"
"$env_dir/bin/python" -m pip install --quiet osipy==0.1.4 dcmri==0.6.20 dipy lmfit
"$env_dir/bin/python" - <<'PY'
import importlib.metadata as m
print("peers environment:", ", ".join(f"{p} {m.version(p)}" for p in ("osipy", "dcmri", "dipy", "lmfit", "numpy", "scipy")))
PY
echo "run: python Testing/benchmarks/benchmark_peers.py --peers-python $env_dir/bin/python"
