#!/usr/bin/env bash
# Build the separate environment in which Testing/benchmarks/benchmark_r2star_peers.py runs tedana
# (its tedana.decay.fit_decay: log-linear and scipy curve_fit T2* fits), the independent reference
# for the HypoxiaModule R2*/T2* fit. Never a test dependency of the project.
# (A sibling of setup_benchmark_peers.sh: tedana pulls in pandas, nilearn, scikit-learn, mapca...,
# which the DCE/IVIM peers environment does not need.)
#
#   Utilities/setup_tedana_peer.sh [ENV_DIR] [PYTHON]
#   defaults: ENV_DIR=/tmp/venv-tedana, PYTHON=python3 on PATH (tedana 26 needs Python >= 3.10)
set -euo pipefail
env_dir="${1:-/tmp/venv-tedana}"
python="${2:-$(command -v python3)}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup_tedana_peer: need Python >= 3.10 for tedana (pass it as the second argument)" >&2
  exit 1
fi
"$python" -m venv "$env_dir"
"$env_dir/bin/python" -m pip install --quiet tedana==26.0.3
"$env_dir/bin/python" - <<'PY'
import importlib.metadata as m
print("tedana environment:", ", ".join(f"{p} {m.version(p)}" for p in ("tedana", "numpy", "scipy")))
PY
echo "run: python Testing/benchmarks/benchmark_r2star_peers.py --tedana-python $env_dir/bin/python"
