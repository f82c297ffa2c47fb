"""LCModel .RAW / .H2O time-domain files: Fortran namelists ($SEQPAR ... $END, $NMID ... $END)
then (real, imaginary) pairs, free format.

Sign: the numbers are the FID in the NIfTI-MRS convention already: no conjugation. Evidence
(Testing/Data/lcmodel-sign/README.md): .RAW files written by suspect from a Siemens .rda and
from a Philips SDAT equal the .rda FID and the SDAT FID after the SDAT's own conjugation (NAA
at 2.0 ppm); spant and FID-A write the same convention; LCModel's own example data fit with
LCModel's reference ratios only without conjugation. (spec2nii's ``raw`` converter
conjugates; read through it, the same files land mirrored, NAA at 7.3 ppm.)

The spectrometer frequency (HZPPPM, MHz) and echo time (ECHOT, ms) are usually in $SEQPAR; the
dwell time (DELTAT, s) usually is not: it lives in the control file that LCModel reads from
standard input, which may have any name. The control file is found by content: a text file
in the same folder holding an ``$LCMODL`` namelist whose FILRAW names this file.
"""
import os
import re

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

from .common import DWELL_S_RANGE, SPECTROMETER_MHZ_RANGE, check_value, read_text, require_file
from .mrs_data import MRSData

_FIELD = re.compile(r"([A-Za-z_]\w*)\s*=\s*('[^']*'|\"[^\"]*\"|[^,\s]+)")
CONTROL_MAX_BYTES = 1_000_000     # control files are a few kB; larger files are not looked into


def _namelist_values(text):
    values = {}
    for key, value in _FIELD.findall(text):
        value = value.strip("'\"")
        try:
            values[key.upper()] = float(value.replace("D", "E").replace("d", "e"))
        except ValueError:
            values[key.upper()] = value
    return values


def _numbers(body, name):
    tokens = body.replace("D", "E").replace("d", "e").split()
    try:
        return np.array(tokens, dtype=float)
    except ValueError:
        for index, token in enumerate(tokens):
            try:
                float(token)
            except ValueError:
                raise InputError(f"'{name}': the data after $END are not all numbers (value {index + 1} is "
                                 f"{token[:20]!r})") from None
    raise InputError(f"'{name}': the data after $END are not numbers")    # not reached


def read_lcmodel_raw(path, dwell_s=None, spectrometer_mhz=None, te_s=None):
    path = require_file(path)
    name = os.path.basename(path)
    text = read_text(path, "LCModel .RAW file")
    last_end = text.upper().rfind("$END")
    if last_end < 0:
        raise InputError(f"'{name}' is not an LCModel .RAW file (no namelist ending in $END)")
    header = _namelist_values(text[:last_end])
    body = text[last_end + 4:].split("\n", 1)[1] if "\n" in text[last_end:] else ""
    numbers = _numbers(body, name)
    if numbers.size < 32 or numbers.size % 2:
        raise InputError(f"'{name}': {numbers.size} numbers after the header; expected "
                         "an even count of at least 32 (real, imaginary pairs)")
    fid = numbers[0::2] + 1j * numbers[1::2]
    control, control_path = find_control_values(path)
    header_dwell = header.get("DELTAT", header.get("DWELLTIME"))
    dwell = dwell_s if dwell_s is not None else (header_dwell if header_dwell is not None else control.get("DELTAT"))
    if dwell is None:
        raise MetadataError(f"'{name}': the dwell time (DELTAT) is not in the file or in an LCModel control file "
                            "($LCMODL namelist whose FILRAW names this file) beside it; give it (dwell_s=..., "
                            "--dwell-time)")
    dwell_source = ("argument" if dwell_s is not None else "header" if header_dwell is not None
                    else "control file " + os.path.basename(control_path))
    mhz = spectrometer_mhz if spectrometer_mhz is not None else header.get("HZPPPM", control.get("HZPPPM"))
    if mhz is None:
        raise MetadataError(f"'{name}': the spectrometer frequency (HZPPPM) is missing; give it "
                            "(spectrometer_mhz=...)")
    what = {"argument": "dwell_s", "header": "DELTAT in the header"}.get(dwell_source, "DELTAT in " + dwell_source)
    dwell = check_value(dwell, what, path, DWELL_S_RANGE[0], DWELL_S_RANGE[1], "s")
    mhz = check_value(mhz, "HZPPPM" if spectrometer_mhz is None else "spectrometer_mhz", path,
                      SPECTROMETER_MHZ_RANGE[0], SPECTROMETER_MHZ_RANGE[1], "MHz")
    echo = te_s if te_s is not None else (header.get("ECHOT", control.get("ECHOT")))
    if echo is not None and te_s is None:
        if not isinstance(echo, float):
            raise MetadataError(f"'{name}': ECHOT = {echo!r} is not a number (ms)")
        echo = echo * 1e-3
    metadata = {"source_format": "LCModel RAW", "path": path,
                "lcmodel_header": {k: v for k, v in header.items()}, "dwell_source": dwell_source}
    if control_path:
        metadata["lcmodel_control_file"] = control_path
    return MRSData(fid=fid.reshape(1, 1, 1, -1), dwell_s=dwell, spectrometer_mhz=mhz, te_s=echo,
                   metadata=metadata)


def _names_this_file(values, path):
    filraw = values.get("FILRAW")
    if not isinstance(filraw, str) or not filraw.strip():
        return False
    return os.path.basename(filraw.strip().replace("\\", "/")).lower() == os.path.basename(path).lower()


def find_control_values(path):
    """(values, control path) of the LCModel control file for ``path``; ({}, None) when none is found.

    First choice: a file in the same folder with an ``$LCMODL`` namelist whose FILRAW names
    ``path`` (any file name). Fallback: ``<stem>.control`` / ``control`` / ``control.file``
    with an $LCMODL namelist that does not name another .RAW file.
    """
    folder = os.path.dirname(os.path.abspath(path))
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return {}, None
    fallback_names = {os.path.basename(os.path.splitext(path)[0]).lower() + ".control", "control", "control.file"}
    matches, fallbacks = [], []
    for entry in names:
        candidate = os.path.join(folder, entry)
        if candidate == os.path.abspath(path):
            continue
        try:
            if not os.path.isfile(candidate) or os.path.getsize(candidate) > CONTROL_MAX_BYTES:
                continue
            with open(candidate, "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        if b"\x00" in raw or b"$LCMODL" not in raw.upper():
            continue
        text = raw.decode("latin-1")
        start = text.upper().find("$LCMODL")
        end = text.upper().find("$END", start)
        values = _namelist_values(text[start + len("$LCMODL"):end if end > 0 else None])
        if _names_this_file(values, path):
            matches.append((candidate, values))
        elif entry.lower() in fallback_names and not values.get("FILRAW"):
            fallbacks.append((candidate, values))
    chosen = matches or fallbacks
    if not chosen:
        return {}, None
    if len(chosen) > 1:
        distinct = {(v.get("DELTAT"), v.get("HZPPPM")) for _, v in chosen}
        if len(distinct) > 1:
            raise MetadataError(f"'{os.path.basename(path)}': {len(chosen)} LCModel control files name it with "
                                f"different DELTAT/HZPPPM: " + ", ".join(os.path.basename(c) for c, _ in chosen))
    return chosen[0][1], chosen[0][0]


def write_lcmodel_raw(path, fid, dwell_s, spectrometer_mhz, te_s=None, identifier="TMEMonitor"):
    """Write one FID (NIfTI-MRS convention, stored as is) as LCModel .RAW, DELTAT included in $NMID."""
    fid = np.asarray(fid).ravel()
    lines = [" $SEQPAR", f" ECHOT = {0.0 if te_s is None else te_s * 1e3:.4f}", f" HZPPPM = {spectrometer_mhz:.6f}",
             " SEQ = 'PRESS'", " $END", " $NMID", f" ID = '{identifier}'", " FMTDAT = '(2E16.6)'",
             f" DELTAT = {dwell_s:.8e}", " VOLUME = 1.0", " TRAMP = 1.0", " $END"]
    lines += [f"{value.real:16.6E}{value.imag:16.6E}" for value in fid]
    with open(os.fspath(path), "w", encoding="latin-1") as handle:
        handle.write("\n".join(lines) + "\n")
    return os.fspath(path)
