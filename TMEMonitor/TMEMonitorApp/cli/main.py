"""``tme-monitor``: entry point. The app's own sub-commands live beside this file:

- ``demo``   : TMEMonitorApp.cli.demo (the whole chain on the synthetic patient)
- ``info``   : TMEMonitorApp.cli.info (what read_series finds in a path)
- ``report`` : TMEMonitorApp.cli.report (the longitudinal report of a saved scene)
- ``radiomics``: TMEMonitorApp.cli.radiomics (IBSI features of an image, or of a saved scene's visits)
- ``cohort`` : TMEMonitorApp.cohort.cli (a trial's patients on Dask: ``cohort demo``, ``cohort run``)
and each registered technique adds its own (``Technique.add_parser``: ``dce``, ``dwi``, ``mrs``,
...; see ``TMEMonitorApp.techniques``): no list of technique modules here.
An ``add_parser(subparsers)`` registers a sub-command and sets ``func`` to a callable taking the
parsed arguments and returning an exit code.
"""
import argparse
import sys

from TMEMonitorLib.errors import InputError

from .. import techniques
from ..cohort import cli as cohort
from . import demo, info, radiomics, report

APP_COMMANDS = (demo, info)
APP_COMMANDS_AFTER_TECHNIQUES = (report, radiomics, cohort)


def version():
    """The installed package's version; from pyproject.toml beside the sources when not installed."""
    try:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version
        try:
            return package_version("tme-monitor")
        except PackageNotFoundError:
            pass
    except ImportError:
        pass
    import os
    import re
    pyproject = os.path.join(os.path.dirname(__file__), "..", "..", "..", "pyproject.toml")
    try:
        with open(pyproject, encoding="utf-8") as handle:
            found = re.search(r'^version\s*=\s*"([^"]+)"', handle.read(), re.M)
        return found.group(1) if found else "unknown"
    except OSError:
        return "unknown"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tme-monitor",
        description="Tumour microenvironment monitoring with quantitative MRI (headless TME Monitor).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in APP_COMMANDS:
        module.add_parser(subparsers)
    for technique in techniques.techniques():
        if technique.add_parser is not None:
            technique.add_parser(subparsers)
    for module in APP_COMMANDS_AFTER_TECHNIQUES:
        module.add_parser(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except InputError as error:
        print(f"tme-monitor {args.command}: error: {error}", file=sys.stderr)
        return 2


def run_captured(argv):
    """Run a command in this process; returns (exit code, stdout text, stderr text).

    For scripts and tests that call ``tme-monitor`` without a subprocess."""
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


if __name__ == "__main__":
    sys.exit(main())
