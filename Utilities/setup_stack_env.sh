#!/usr/bin/env bash
# Sourced with STACK set to slicer-5.8 or slicer-5.10: create .venv-<STACK> (or $TME_STACK_VENV)
# from pyenv's Python of that Slicer (3.9 / 3.12) with Slicer's numpy/scipy/pydicom pins
# (Utilities/stack-<STACK>.txt). The project is not installed (pyproject asks for what
# slicer-core needs); the repository's conftest.py puts the module folders on sys.path.
# Leaves VENV set, or returns 3 with a loud message when that Python is not on this machine.
case "$STACK" in
  slicer-5.8) STACK_PYTHON_VERSION=3.9 ;;
  slicer-5.10) STACK_PYTHON_VERSION=3.12 ;;
  *) echo "setup_stack_env.sh: unknown stack '$STACK' (slicer-5.8 or slicer-5.10)" >&2; return 2 ;;
esac

find_stack_python() {
  # $TME_PYTHON_<3_9|3_12> wins; then pyenv's newest <version>.x; then python<version> on PATH.
  local override="TME_PYTHON_${STACK_PYTHON_VERSION/./_}"
  if [ -n "${!override:-}" ]; then echo "${!override}"; return; fi
  local root="${PYENV_ROOT:-}"
  if [ -z "$root" ] && command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; fi
  for candidate_root in "$root" "$HOME/.pyenv" /root/.pyenv; do
    [ -n "$candidate_root" ] && [ -d "$candidate_root/versions" ] || continue
    local found
    found="$(ls -d "$candidate_root/versions/$STACK_PYTHON_VERSION".* 2>/dev/null \
             | grep -E "/$STACK_PYTHON_VERSION\.[0-9]+$" | sort -V | tail -n 1)"
    if [ -n "$found" ] && [ -x "$found/bin/python" ]; then echo "$found/bin/python"; return; fi
  done
  command -v "python$STACK_PYTHON_VERSION" 2>/dev/null || true
}

STACK_PYTHON="$(find_stack_python)"
if [ -z "$STACK_PYTHON" ]; then
  echo "" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! $STACK stack: no Python $STACK_PYTHON_VERSION found (looked for \$TME_PYTHON_${STACK_PYTHON_VERSION/./_}," >&2
  echo "!! pyenv versions under \$PYENV_ROOT, ~/.pyenv, /root/.pyenv, and python$STACK_PYTHON_VERSION on PATH)." >&2
  echo "!! Install it with: pyenv install $STACK_PYTHON_VERSION   -- the tests did NOT run on this stack." >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  return 3
fi
VENV=${TME_STACK_VENV:-.venv-$STACK}
if [ ! -x "$VENV/bin/python" ]; then
  "$STACK_PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "Utilities/stack-$STACK.txt"
export MPLBACKEND=Agg
