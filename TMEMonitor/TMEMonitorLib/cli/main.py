"""``tme-monitor``: entry point. Each sub-command lives beside the code it runs:

- ``demo``   : TMEMonitorLib.cli.demo (the whole chain on the synthetic patient)
- ``info``   : TMEMonitorLib.cli.info (what read_series finds in a path)
- ``dce``    : DCEModuleLib.cli
- ``dwi``    : DiffusionModuleLib.cli
- ``mrs``    : SpectroscopyModuleLib.cli
- ``report`` : TMEMonitorLib.longitudinal.cli
A sub-command module exposes ``add_parser(subparsers)`` which registers itself and sets
``func`` to a callable taking the parsed arguments and returning an exit code.
"""
import argparse
import importlib
import sys

from ..errors import InputError

SUBCOMMAND_MODULES = (
    "TMEMonitorLib.cli.demo",
    "TMEMonitorLib.cli.info",
    "DCEModuleLib.cli",
    "DiffusionModuleLib.cli",
    "SpectroscopyModuleLib.cli",
    "TMEMonitorLib.longitudinal.cli",
    "TMEMonitorApp.cohort.cli",
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tme-monitor",
        description="Tumour microenvironment monitoring with quantitative MRI (headless TME Monitor).")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # A technique module that is not installed: its command is simply absent.
            if error.name and module_name.startswith(error.name):
                continue
            raise
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
