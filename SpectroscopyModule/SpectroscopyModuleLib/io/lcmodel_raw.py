"""LCModel .RAW / .H2O time-domain files: Fortran namelists ($SEQPAR ... $END, $NMID ... $END)
then (real, imaginary) pairs, free format. LCModel's frequency sign is the opposite of
NIfTI-MRS, so the FID is conjugated on reading and writing (Provencher, LCModel manual;
spec2nii does the same).

The spectrometer frequency (HZPPPM, MHz) and echo time (ECHOT, ms) are usually in $SEQPAR; the
dwell time (DELTAT, s) usually is not (it lives in the control file): it is taken from the
header when there, else from a .control / .CONTROL file beside the data, else given by the caller.
"""
import os
import re

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

from .common import require_file
from .mrs_data import MRSData

_FIELD = re.compile(r"([A-Za-z_]\w*)\s*=\s*('[^']*'|[^,\s]+)")


def _namelist_values(text):
    values = {}
    for key, value in _FIELD.findall(text):
        value = value.strip("'")
        try:
            values[key.upper()] = float(value.replace("D", "E").replace("d", "e"))
        except ValueError:
            values[key.upper()] = value
    return values


def read_lcmodel_raw(path, dwell_s=None, spectrometer_mhz=None, te_s=None):
    path = require_file(path)
    with open(path, "r", encoding="latin-1") as handle:
        text = handle.read()
    last_end = text.upper().rfind("$END")
    if last_end < 0:
        raise InputError(f"'{os.path.basename(path)}' is not an LCModel .RAW file (no namelist ending in $END)")
    header = _namelist_values(text[:last_end])
    body = text[last_end + 4:].split("\n", 1)[1] if "\n" in text[last_end:] else ""
    try:
        numbers = np.array(body.replace("D", "E").split(), dtype=float)
    except ValueError:
        raise InputError(f"'{os.path.basename(path)}': the data after $END are not all numbers") from None
    if numbers.size < 32 or numbers.size % 2:
        raise InputError(f"'{os.path.basename(path)}': {numbers.size} numbers after the header; expected "
                         "an even count of at least 32 (real, imaginary pairs)")
    fid = np.conj(numbers[0::2] + 1j * numbers[1::2])
    control = _control_values(path)
    dwell = dwell_s or header.get("DELTAT") or header.get("DWELLTIME") or control.get("DELTAT")
    if dwell is None:
        raise MetadataError(f"'{os.path.basename(path)}': the dwell time (DELTAT) is not in the file or a "
                            ".control file beside it; give it (dwell_s=..., --dwell-time)")
    mhz = spectrometer_mhz or header.get("HZPPPM") or control.get("HZPPPM")
    if mhz is None:
        raise MetadataError(f"'{os.path.basename(path)}': the spectrometer frequency (HZPPPM) is missing; give it "
                            "(spectrometer_mhz=...)")
    echo = te_s if te_s is not None else (header.get("ECHOT") or control.get("ECHOT"))
    if echo is not None and te_s is None:
        echo = float(echo) * 1e-3
    metadata = {"source_format": "LCModel RAW", "path": path,
                "lcmodel_header": {k: v for k, v in header.items()},
                "dwell_source": "argument" if dwell_s else ("header" if header.get("DELTAT") else "control file")}
    return MRSData(fid=fid.reshape(1, 1, 1, -1), dwell_s=float(dwell), spectrometer_mhz=float(mhz), te_s=echo,
                   metadata=metadata)


def _control_values(path):
    stem = os.path.splitext(path)[0]
    for candidate in (stem + ".control", stem + ".CONTROL", os.path.join(os.path.dirname(path), "control")):
        if os.path.exists(candidate):
            with open(candidate, "r", encoding="latin-1") as handle:
                return _namelist_values(handle.read())
    return {}


def write_lcmodel_raw(path, fid, dwell_s, spectrometer_mhz, te_s=None, identifier="TMEMonitor"):
    """Write one FID (NIfTI-MRS convention) as LCModel .RAW, DELTAT included in $NMID."""
    fid = np.conj(np.asarray(fid).ravel())
    lines = [" $SEQPAR", f" ECHOT = {0.0 if te_s is None else te_s * 1e3:.4f}", f" HZPPPM = {spectrometer_mhz:.6f}",
             " SEQ = 'PRESS'", " $END", " $NMID", f" ID = '{identifier}'", " FMTDAT = '(2E16.6)'",
             f" DELTAT = {dwell_s:.8e}", " VOLUME = 1.0", " TRAMP = 1.0", " $END"]
    lines += [f"{value.real:16.6E}{value.imag:16.6E}" for value in fid]
    with open(path, "w", encoding="latin-1") as handle:
        handle.write("\n".join(lines) + "\n")
    return path
