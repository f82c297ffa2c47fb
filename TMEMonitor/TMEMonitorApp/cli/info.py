"""``tme-monitor info PATH``: what read_series finds (series, frames, axis values and source, geometry, warnings)."""
from TMEMonitorLib import cli_options as opt


def add_parser(subparsers):
    parser = subparsers.add_parser("info", help="describe a 4D series (DICOM folder, NIfTI, .seq.nrrd)")
    parser.add_argument("path", type=opt.existing_path("DICOM folder or series file"),
                        help="DICOM folder, 4D NIfTI (+ .json / .bval) or .seq.nrrd")
    parser.add_argument("--series", type=opt.text(), help="series to read when a folder holds several "
                                                          "(UID, number or description)")
    parser.add_argument("--axis", choices=["time", "b"], help="force the 4D axis")
    parser.set_defaults(func=run)


def run(args):
    from TMEMonitorLib import io
    overrides = {}
    if args.series:
        overrides["series"] = args.series
    if args.axis:
        overrides["axis_name"] = args.axis
    series = io.read_series(args.path, **overrides)
    print(io.describe(series))
    return 0
