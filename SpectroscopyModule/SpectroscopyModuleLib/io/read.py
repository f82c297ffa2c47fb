"""read_mrs: one entry point for every spectroscopy format, chosen from the file itself.

Detection order: NIfTI(-MRS) by name; Siemens .rda by its header text; Philips .SPAR/.SDAT by
extension; DICOM by its preamble ('DICM' at byte 128) or a folder of DICOM files; jMRUI text by
its header keys; LCModel .RAW/.H2O by the '$' namelist; formats of spec2nii (.dat, .7,
.data/.list) through the converter. Everything comes back as MRSData in the NIfTI-MRS
conventions (see mrs_data.py), with ``metadata["source_format"]`` saying which reader ran.
"""
import os

import numpy as np

from TMEMonitorLib.errors import InputError

from .common import DWELL_S_RANGE, SPECTROMETER_MHZ_RANGE, check_spectroscopy, check_value, require_file
from .dicom_mrs import read_dicom_mrs
from .jmrui_text import is_jmrui_text, read_jmrui_text
from .lcmodel_raw import read_lcmodel_raw
from .nifti_mrs import is_nifti_mrs, read_nifti_mrs
from .philips_sdat import read_sdat
from .siemens_rda import read_rda
from .spec2nii_bridge import convert_with_spec2nii, subcommand_for

KNOWN_FORMATS = ("NIfTI-MRS (.nii, .nii.gz)", "Siemens .rda", "DICOM spectroscopy (Siemens CSA .IMA, MR Spectroscopy "
                 "Storage .dcm, folder)", "Philips .SPAR/.SDAT", "LCModel .RAW/.H2O", "jMRUI text (.txt)",
                 "through spec2nii: Siemens twix .dat, GE .7, Philips .data/.list")


def _head(path, size=512):
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError as error:
        raise InputError(f"spectroscopy file '{path}' cannot be read: {error.strerror or error}") from None


def _is_dicom(path):
    head = _head(path, 132)
    return len(head) >= 132 and head[128:132] == b"DICM"


def detect_format(path):
    """A short name of the reader for ``path`` ('nifti', 'rda', 'sdat', 'dicom', 'jmrui', 'lcmodel', 'spec2nii')."""
    path = require_file(path)
    name = os.path.basename(path).lower()
    if os.path.isdir(path):
        return "dicom"
    if is_nifti_mrs(path):
        return "nifti"
    extension = os.path.splitext(name)[1]
    if extension in (".spar", ".sdat"):
        return "sdat"
    head = _head(path)
    if b">>> Begin of header <<<" in head:
        return "rda"
    if _is_dicom(path) or extension in (".ima", ".dcm"):
        return "dicom"
    if subcommand_for(path):
        return "spec2nii"
    if extension in (".raw", ".h2o") or b"$NMID" in head.upper() or b"$SEQPAR" in head.upper():
        return "lcmodel"
    if extension == ".txt" and is_jmrui_text(path):
        return "jmrui"
    raise InputError(f"'{os.path.basename(path)}': unknown spectroscopy format; TME Monitor reads "
                     + "; ".join(KNOWN_FORMATS))


OVERRIDES = ("dwell_s", "spectrometer_mhz", "te_s", "tr_s", "nucleus")


def check_overrides(overrides):
    """Refuse unknown or impossible overrides before any file is read."""
    unknown = set(overrides) - set(OVERRIDES)
    if unknown:
        raise InputError(f"read_mrs: unknown override(s) {', '.join(sorted(unknown))}; known: {', '.join(OVERRIDES)}")
    checked = {}
    for name, low, high, unit in (("dwell_s", DWELL_S_RANGE[0], DWELL_S_RANGE[1], "s"),
                                  ("spectrometer_mhz", SPECTROMETER_MHZ_RANGE[0], SPECTROMETER_MHZ_RANGE[1], "MHz"),
                                  ("tr_s", 1e-3, 100.0, "s")):
        if overrides.get(name) is not None:
            checked[name] = check_value(overrides[name], name, "override", low, high, unit)
    te = overrides.get("te_s")
    if te is not None:
        try:
            te = float(te)
        except (TypeError, ValueError):
            raise InputError(f"override te_s = {te!r} is not a number (s)") from None
        if not (np.isfinite(te) and 0 <= te < 10):
            raise InputError(f"override te_s = {te!r} s is not a plausible echo time (0-10 s)")
        checked["te_s"] = te
    nucleus = overrides.get("nucleus")
    if nucleus is not None:
        if not isinstance(nucleus, str) or not nucleus.strip():
            raise InputError(f"override nucleus = {nucleus!r} must be a name such as '1H' or '31P'")
        checked["nucleus"] = nucleus.strip()
    return checked


def read_mrs(path, **overrides):
    """Read a spectroscopy file (or DICOM folder) into MRSData.

    ``overrides`` (dwell_s, spectrometer_mhz, te_s, tr_s, nucleus) replace or fill header values;
    each replaced value is recorded in ``metadata['overrides']`` so the source stays visible, and
    one that differs from the file's own value by more than 1 % adds a warning
    (``metadata['warnings']``)."""
    overrides = check_overrides(overrides)
    path = require_file(os.fspath(path))
    kind = detect_format(path)
    if kind == "lcmodel":
        mrs = read_lcmodel_raw(path, dwell_s=overrides.get("dwell_s"),
                               spectrometer_mhz=overrides.get("spectrometer_mhz"), te_s=overrides.get("te_s"))
    elif kind == "spec2nii":
        converted = convert_with_spec2nii(path)
        mrs = converted[0]
        if len(converted) > 1:
            mrs.metadata["other_outputs"] = [m.metadata.get("converted_name") for m in converted[1:]]
    else:
        reader = {"nifti": read_nifti_mrs, "rda": read_rda, "sdat": read_sdat, "dicom": read_dicom_mrs,
                  "jmrui": read_jmrui_text}[kind]
        mrs = reader(path)
    applied, warnings = {}, []
    for name in OVERRIDES:
        value = overrides.get(name)
        header = getattr(mrs, name, None)
        if value is not None and header != value:
            applied[name] = {"value": value, "header": header}
            if isinstance(header, float) and header > 0 and abs(value - header) > 0.01 * header:
                warnings.append(f"{name} = {value:g} given replaces the file's {header:g} (differs by "
                                f"{100 * abs(value - header) / header:.0f} %)")
            setattr(mrs, name, value)
    if applied:
        mrs.metadata["overrides"] = applied
    if warnings:
        mrs.metadata.setdefault("warnings", []).extend(f"'{os.path.basename(path)}': {w}" for w in warnings)
    return check_spectroscopy(mrs, path)
