#!/usr/bin/env bash
# The README's demo command: set up (as for the tests) and run `tme-monitor demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${TME_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
export MPLBACKEND=Agg
"$VENV/bin/tme-monitor" demo "${@:---out=demo-out}"
