"""``tme-monitor``: entry point. The app's own sub-commands live beside this file:

- ``demo``   : TMEMonitorApp.cli.demo (the whole chain on the synthetic patient)
- ``info``   : TMEMonitorApp.cli.info (what read_series finds in a path)
- ``report`` : TMEMonitorApp.cli.report (the longitudinal report of a saved scene)
- ``radiomics``: TMEMonitorApp.cli.radiomics (IBSI features of an image, or of a saved scene's visits)
- ``cohort`` : TMEMonitorApp.cohort.cli (a trial's patients on Dask: ``cohort demo``, ``cohort run``)
and each registered technique adds its own (``Technique.add_parser``: ``dce``, ``dwi``, ``mrs``,
...; see ``TMEMonitorApp.techniques``): no list of technique modules here.
An ``add_parser(subparsers)`` registers a sub-command and sets ``func`` to a callable taking the
parsed arguments and returning an exit code. Options declare their kind and range with the
``type=`` functions of ``TMEMonitorLib.cli_options`` (nonsense stops argparse, naming the flag);
commands that write open a ``TMEMonitorLib.output_folder.OutputFolder`` before reading inputs.

Exit codes: 0 done; 2 bad arguments or input (a message naming the flag or file, nothing
written); 143 stopped by SIGTERM (staging cleaned up, previous outputs as they were).
"""
import argparse
import sys

from TMEMonitorLib import termination
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
    """Run one command; returns its exit code (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with termination.sigterm_aborts():
        try:
            parser = build_parser()
            try:
                args = parser.parse_args(argv)
            except SystemExit as stop:            # argparse printed the error (or --help / --version)
                if not stop.code:
                    raise                         # --help, --version: argparse's own clean exit
                return stop.code if isinstance(stop.code, int) else 2
            if not getattr(args, "func", None):
                parser.print_help()
                return 2
            args.argv = argv
            try:
                return int(args.func(args) or 0)
            except InputError as error:
                print(f"tme-monitor {args.command}: error: {with_option(str(error), parser, args)}",
                      file=sys.stderr)
                return 2
        except BaseException as error:
            # Terminated, or what a library made of it while SIGTERM arrived (vtk's lazy importer
            # re-raises it as ImportError): a stop, not a crash.
            if not (isinstance(error, termination.Terminated) or termination.received()):
                raise
            print("tme-monitor: stopped by SIGTERM; partial outputs removed, previous outputs kept",
                  file=sys.stderr)
            return termination.EXIT_CODE


def _path_options(parser, args):
    """(flag, path) of every option of the command given a path (a str naming an existing file)."""
    import os
    command = getattr(args, "command", None)
    found = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction) or command not in action.choices:
            continue
        for sub_action in action.choices[command]._actions:
            values = getattr(args, sub_action.dest, None)
            for value in values if isinstance(values, (list, tuple)) else [values]:
                if isinstance(value, str) and value and os.path.exists(value):
                    found.append((sub_action.option_strings[-1] if sub_action.option_strings else sub_action.dest,
                                  value))
    return found


def with_option(message, parser, args):
    """An input error's message, led by the option that gave the file it names (a reader names
    the file, not the flag that brought it)."""
    import os
    if any(flag in message for flag, _ in _path_options(parser, args) if flag.startswith("--")):
        return message
    for flag, path in _path_options(parser, args):
        if path in message or os.path.basename(path) in message:
            return f"{flag} '{path}': {message}" if flag.startswith("--") else f"{flag}: {message}"
    return message


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
