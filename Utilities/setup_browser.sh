#!/usr/bin/env bash
# Headless Chromium for the report screenshot test (TMEMonitor/Testing/Python/test_report_browser.py):
# Debian's `chromium` package and the `playwright` Python package driving it through its
# executable path (playwright's own browser download is not used). Idempotent and quiet;
# sourced by run_tests.sh after setup_env.sh (needs $VENV). Installs the system package only
# when running as root with apt-get; otherwise it says what is missing and the test skips.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 &&
      apt-get install -y -qq chromium >/dev/null 2>&1; }) ||
      echo "setup_browser: could not install Debian's chromium; the report screenshot test will skip" >&2
  else
    echo "setup_browser: no chromium on PATH (install Debian's 'chromium' as root); the report screenshot test will skip" >&2
  fi
fi
if ! "$VENV/bin/python" -c "import playwright" >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip install --quiet playwright >/dev/null 2>&1 ||
    echo "setup_browser: could not install the playwright Python package; the report screenshot test will skip" >&2
fi
