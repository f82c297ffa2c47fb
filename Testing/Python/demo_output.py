"""The tiny demo's output folder, made once per test process and shared by the tests that read it
(the report in a browser, the round trip of every file the demo writes). Removed at exit."""
import atexit
import contextlib
import io
import os
import shutil
import tempfile

_CACHE = {}


def tiny_demo_output(seed=2):
    """(output folder, printed text) of ``tme-monitor demo --size tiny --seed <seed>``."""
    if seed not in _CACHE:
        from TMEMonitorApp.cli.main import main
        out = tempfile.mkdtemp(prefix="tme-demo-shared-")
        atexit.register(shutil.rmtree, out, True)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = main(["demo", "--out", out, "--size", "tiny", "--seed", str(seed)])
        if code != 0:
            raise RuntimeError(f"tme-monitor demo failed with exit code {code}: {printed.getvalue()[-2000:]}")
        _CACHE[seed] = (out, printed.getvalue())
    return _CACHE[seed]


def demo_file(out, *parts):
    return os.path.join(out, *parts)
