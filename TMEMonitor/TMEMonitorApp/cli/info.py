"""``tme-monitor info PATH``: what the readers find (series, frames, axis values and their source,
geometry, acquisition metadata, warnings), for every series and spectrum format we write or read:
DICOM folders, 4D NIfTI (+ JSON / .bval), .seq.nrrd (time, b-values, echo times, flip angles), NIfTI-MRS.

A .seq.nrrd whose frames follow an index that is no physical axis (a frame number, an MRE
encoding component or phase offset) is described as it is: its frames, the index as written and
its own TMEMonitor.* keys, saying that no time or b axis applies. ``info`` is a describer; the
analysis commands keep refusing such a file as a time or b series."""
import os

NRRD_SUFFIXES = (".nrrd", ".nhdr")
from TMEMonitorLib import cli_options as opt


def add_parser(subparsers):
    parser = subparsers.add_parser("info", help="describe a 4D series or a spectrum (DICOM folder, NIfTI, .seq.nrrd, "
                                                "NIfTI-MRS)")
    parser.add_argument("path", type=opt.existing_path("DICOM folder, series or spectrum file"), help="DICOM folder, 4D NIfTI (+ .json / .bval), .seq.nrrd, or a NIfTI-MRS spectrum")
    parser.add_argument("--series", type=opt.text(), help="series to read when a folder holds several (UID, number or description; "
                                         "default: the only one)")
    parser.add_argument("--axis", choices=["time", "b", "echo_time", "flip_angle"],
                        help="force the 4D axis (default: from the file's metadata)")
    parser.add_argument("--frame-time", type=opt.positive(3600.0, "s"), metavar="SECONDS",
                        help="uniform frame spacing (s) when the file stores no frame times (default: from the file)")
    parser.add_argument("--axis-values", type=opt.number_list(-1e6, 1e6), metavar="V1,V2,...",
                        help="one value per frame (s, s/mm2 or deg, with --axis) when the file stores none "
                             "(default: from the file)")
    parser.set_defaults(func=run)


def run(args):
    from TMEMonitorLib import io
    from TMEMonitorLib.errors import InputError
    from TMEMonitorLib.io.describe import describe_spectrum, for_command_line, is_nifti_mrs

    if is_nifti_mrs(args.path):
        print(describe_spectrum(args.path))
        return 0
    if _axis_flags_given(args) is False and args.path.lower().endswith(NRRD_SUFFIXES) and os.path.isfile(args.path):
        from TMEMonitorLib.io.describe import describe_frames
        from TMEMonitorLib.io.nrrd_series import frame_index, read_nrrd_frames
        index = frame_index(args.path)
        if index is not None and index[2] is None:       # frames along no physical axis: describe them as they are
            print(describe_frames(read_nrrd_frames(args.path)))
            return 0
    overrides = {}
    if args.series:
        overrides["series"] = args.series
    if args.axis:
        overrides["axis_name"] = args.axis
    if args.frame_time is not None:
        overrides["frame_time_s"] = args.frame_time
    if args.axis_values:
        overrides["axis_values"] = list(args.axis_values)      # parsed and checked by the option's type
    try:
        series = io.read_series(args.path, **overrides)
    except InputError as error:                 # MetadataError too: name the flags, not Python arguments
        text = for_command_line(str(error))
        if args.axis_values and "--axis-values" not in text:      # e.g. "axis_values has 1 value(s) but ..."
            text = text.replace("axis_values", "--axis-values")
        raise type(error)(text) from None
    print(io.describe(series))
    return 0


def _axis_flags_given(args):
    """True when the user told ``info`` how to read the frame axis (then the series reader decides)."""
    return bool(args.axis or args.frame_time is not None or args.axis_values)
