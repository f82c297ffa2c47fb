#!/usr/bin/env bash
# The README's test command: set up .venv (Utilities/setup_env.sh) and run the whole suite
# headless (pytest on a real slicer-core scene). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source Utilities/setup_env.sh
"$VENV/bin/python" -m pytest -q "$@"
