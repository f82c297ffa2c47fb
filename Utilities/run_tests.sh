#!/usr/bin/env bash
# The README's test command (what CI runs): the whole suite headless, on each Python stack.
#
#   bash Utilities/run_tests.sh [--stack LIST] [pytest arguments]
#
# LIST is comma-separated, default "all" = current,slicer-5.8,slicer-5.10:
#   current      .venv (Utilities/setup_env.sh: python3, the project with slicer-core)
#   slicer-5.8   Slicer 5.8's stack: Python 3.9 (pyenv), numpy 1.26.4, scipy 1.13.1, pydicom 2.4.4;
#                no slicer-core wheel, so tests needing Slicer's MRML scene are skipped (with why)
#   slicer-5.10  Slicer 5.10's stack: Python 3.12 (pyenv), numpy 2.0.2, scipy 1.13.1, pydicom 2.4.4,
#                with slicer-core: the whole suite
# A Slicer stack whose Python is missing prints a loud message; it fails the run when
# TME_REQUIRE_STACKS=1 (set by CI), otherwise it is reported as not run.
set -euo pipefail
cd "$(dirname "$0")/.."

STACKS=all
if [ "${1:-}" = "--stack" ]; then STACKS="${2:?--stack needs a list}"; shift 2
elif [[ "${1:-}" == --stack=* ]]; then STACKS="${1#--stack=}"; shift
fi
[ "$STACKS" = all ] && STACKS=current,slicer-5.8,slicer-5.10

declare -a SUMMARY=()
STATUS=0
for STACK in ${STACKS//,/ }; do
  echo "==== TME Monitor tests on the '$STACK' stack ===="
  start=$SECONDS
  set +e
  (
    set -e
    case "$STACK" in
      current) source Utilities/setup_env.sh; source Utilities/setup_browser.sh; extra=()
               # the report screenshot test must run here (chromium + playwright are installed above)
               [ "${CI:-}" = true ] && export TME_REQUIRE_BROWSER=1 ;;
      slicer-5.8|slicer-5.10) source Utilities/setup_stack_env.sh; extra=(-rs) ;;
      *) echo "unknown stack '$STACK' (current, slicer-5.8, slicer-5.10, all)" >&2; exit 2 ;;
    esac
    "$VENV/bin/python" -c 'import sys, numpy, scipy, pydicom; print("Python %s, numpy %s, scipy %s, pydicom %s" % (sys.version.split()[0], numpy.__version__, scipy.__version__, pydicom.__version__))'
    "$VENV/bin/python" -m pytest -q ${extra[@]+"${extra[@]}"} "$@"
  )
  rc=$?
  set -e
  if [ $rc -eq 3 ] && [ "$STACK" != current ] && [ "${TME_REQUIRE_STACKS:-0}" != 1 ]; then
    SUMMARY+=("$STACK: NOT RUN (its Python is missing, see above)")
  elif [ $rc -eq 0 ]; then
    SUMMARY+=("$STACK: passed ($((SECONDS - start)) s)")
  else
    SUMMARY+=("$STACK: FAILED (exit $rc, $((SECONDS - start)) s)"); STATUS=1
  fi
done
echo "==== summary ===="
printf '%s\n' "${SUMMARY[@]}"
exit $STATUS
