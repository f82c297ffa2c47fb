"""Formats read through the spec2nii converter (Clarke et al., doi:10.1002/mrm.29418): Siemens
twix (.dat), GE P-files (.7), Philips data/list. spec2nii is an optional external program, run
only here and never installed into Slicer (TMEMonitorLib.dependencies.external_command); it
writes NIfTI-MRS files that are then read by the NIfTI-MRS reader.
"""
import glob
import os
import subprocess
import tempfile

from TMEMonitorLib.errors import InputError

from .common import require_file

# File extension -> spec2nii sub-command.
SUBCOMMANDS = {".dat": "twix", ".7": "ge", ".data": "philips_dl", ".list": "philips_dl"}


def subcommand_for(path):
    return SUBCOMMANDS.get(os.path.splitext(os.fspath(path))[1].lower())


def _spec2nii_command():
    # An external program, never pip-installed into Slicer (spec2nii 0.8 needs pydicom 3; Slicer has 2.4).
    from TMEMonitorLib.dependencies import MissingDependencyError, external_command
    try:
        return external_command("spec2nii", module="spec2nii.spec2nii")
    except MissingDependencyError as error:
        raise InputError(f"reading this format needs the 'spec2nii' converter: {error}") from None


def convert_with_spec2nii(path, run=subprocess.run):
    """Convert ``path`` with spec2nii; returns the list of MRSData it produced (one per file written).

    ``run`` is the subprocess runner (replaceable in tests)."""
    path = require_file(path)
    command = subcommand_for(path)
    if command is None:
        raise InputError(f"'{os.path.basename(path)}': spec2nii handles {', '.join(sorted(SUBCOMMANDS))} here")
    arguments = [path]
    if command == "philips_dl":
        stem = os.path.splitext(path)[0]
        data, listing = stem + ".data", stem + ".list"
        for needed in (data, listing):
            if not os.path.exists(needed):
                raise InputError(f"Philips data/list: '{os.path.basename(needed)}' is missing beside "
                                 f"'{os.path.basename(path)}'")
        arguments = [data, listing, stem + ".SPAR"] if os.path.exists(stem + ".SPAR") else [data, listing]
    from .nifti_mrs import read_nifti_mrs
    with tempfile.TemporaryDirectory(prefix="tme_spec2nii_") as out:
        try:
            converter = _spec2nii_command()
        except InputError as error:      # name the file that needed the converter
            raise InputError(f"'{os.path.basename(path)}' ({command} format): {error}") from None
        full = converter + [command, "-o", out] + (["-e", "image"] if command == "twix" else []) + arguments
        result = run(full, capture_output=True, text=True)
        if result.returncode != 0:
            message = (result.stderr or result.stdout or "").strip().splitlines()[-1:] or ["no message"]
            raise InputError(f"spec2nii could not convert '{os.path.basename(path)}': {message[0]}")
        outputs = sorted(glob.glob(os.path.join(out, "*.nii*")))
        if not outputs:
            raise InputError(f"spec2nii wrote no NIfTI-MRS file for '{os.path.basename(path)}'")
        converted = []
        for output in outputs:
            mrs = read_nifti_mrs(output)
            mrs.fid = mrs.fid.copy()
            mrs.metadata.update({"source_format": f"{command} via spec2nii", "path": path,
                                 "converted_name": os.path.basename(output)})
            converted.append(mrs)
    return converted
