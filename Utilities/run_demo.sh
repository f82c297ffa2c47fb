#!/usr/bin/env bash
# The README's demo command: set up .venv (Utilities/setup_env.sh) and run `tme-monitor demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source Utilities/setup_env.sh
"$VENV/bin/tme-monitor" demo "${@:---out=demo-out}"
