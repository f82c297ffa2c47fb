#!/usr/bin/env bash
# The README's test command: create a virtual environment, install TME Monitor with its
# test extra, and run the whole suite headless (pytest on a real slicer-core scene).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${TME_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
# Headless: matplotlib must not look for a display.
export MPLBACKEND=Agg
"$VENV/bin/python" -m pytest -q "$@"
