#!/usr/bin/env bash
# Shared by run_demo.sh and run_tests.sh: create .venv (or $TME_VENV) and install TME Monitor
# with its test extra. Sourced; leaves VENV set.
PYTHON=${PYTHON:-python3}
VENV=${TME_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
# Headless: matplotlib must not look for a display.
export MPLBACKEND=Agg
