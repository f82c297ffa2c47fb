"""NIfTI-MRS (Clarke et al., Magn Reson Med 2022;88:2358, doi:10.1002/mrm.29418): read and write.

The data array is (x, y, z, t[, dim_5, dim_6, dim_7]) with the spectral axis fourth, the
acquisition in a JSON header extension (code 44): SpectrometerFrequency (MHz), ResonantNucleus,
EchoTime / RepetitionTime (s), dim_5..dim_7 tags (defaults DIM_COIL, DIM_DYN, DIM_INDIRECT_0)
and ProcessingApplied. The reader moves the spectral axis last (MRSData layout); the writer
moves it back and keeps every header field it was given. nibabel is imported where used.
"""
import json
import os

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

from .common import nucleus_name, require_file
from .mrs_data import MRSData

NIFTI_MRS_ECODE = 44
INTENT = "mrs_v0_2"
DEFAULT_TAGS = ("DIM_COIL", "DIM_DYN", "DIM_INDIRECT_0")
_TIME_UNIT_SECONDS = {"sec": 1.0, "msec": 1e-3, "usec": 1e-6}
# Header keys that identify a person; removed by write_nifti_mrs(..., anonymise=True).
SUBJECT_KEYS = ("PatientName", "PatientWeight", "PatientDoB", "PatientSex", "PatientID", "PatientAge",
                "PatientBirthDate", "InstitutionAddress")


def _nibabel():
    from TMEMonitorLib.dependencies import require
    return require("nibabel")


def header_extension(image, path="NIfTI-MRS file"):
    """The NIfTI-MRS JSON header extension as a dict (empty when absent)."""
    for extension in image.header.extensions:
        if extension.get_code() == NIFTI_MRS_ECODE:
            content = extension.get_content()
            try:
                if isinstance(content, bytes):
                    content = content.decode("utf-8")
                value = json.loads(content) if isinstance(content, str) else dict(content)
            except (ValueError, TypeError):
                raise MetadataError(f"'{os.path.basename(os.fspath(path))}': the NIfTI-MRS header extension "
                                    "(code 44) is not valid JSON") from None
            if not isinstance(value, dict):
                raise MetadataError(f"'{os.path.basename(os.fspath(path))}': the NIfTI-MRS header extension "
                                    "does not hold a JSON object")
            return value
    return {}


def is_nifti_mrs(path):
    name = os.fspath(path).lower()
    return name.endswith(".nii") or name.endswith(".nii.gz")


def read_nifti_mrs(path):
    path = require_file(path)
    nibabel = _nibabel()
    try:
        image = nibabel.load(path)
    except Exception as error:  # nibabel raises several types for a damaged file
        raise InputError(f"'{os.path.basename(path)}' is not a readable NIfTI file ({error})") from None
    meta = header_extension(image, path)
    try:
        intent = image.header.get_intent()[2] if hasattr(image.header, "get_intent") else ""
    except Exception:  # an unknown intent code in a damaged header
        intent = ""
    if not meta and not str(intent).startswith("mrs"):
        raise InputError(f"'{os.path.basename(path)}' is a NIfTI image without the NIfTI-MRS header extension "
                         "(intent 'mrs_v…', extension code 44): not a spectroscopy file")
    try:
        data = np.asarray(image.dataobj)
    except Exception as error:  # nibabel: truncated or undecodable data block
        raise InputError(f"'{os.path.basename(path)}': the NIfTI data cannot be read (truncated or damaged: "
                         f"{str(error).splitlines()[0]})") from None
    if not np.iscomplexobj(data):
        raise InputError(f"'{os.path.basename(path)}': NIfTI-MRS data must be complex (got {data.dtype})")
    if data.ndim < 4:
        raise InputError(f"'{os.path.basename(path)}': NIfTI-MRS data must have at least 4 dimensions "
                         f"(x, y, z, spectral); got shape {data.shape}")
    n_extra = data.ndim - 4
    tags = [meta.get(f"dim_{5 + i}") or DEFAULT_TAGS[i] for i in range(n_extra)]
    fid = np.moveaxis(data, 3, -1)
    time_unit = image.header.get_xyzt_units()[1]
    dwell = float(image.header.get_zooms()[3]) * _TIME_UNIT_SECONDS.get(time_unit, 1.0)
    frequency = meta.get("SpectrometerFrequency")
    if isinstance(frequency, (list, tuple)):
        frequency = frequency[0] if frequency else None
    if frequency is None:
        raise MetadataError(f"'{os.path.basename(path)}': NIfTI-MRS header has no SpectrometerFrequency")
    try:
        frequency = float(frequency)
    except (TypeError, ValueError):
        raise MetadataError(f"'{os.path.basename(path)}': SpectrometerFrequency {frequency!r} is not a number (MHz)") from None
    warnings = []
    if frequency > 1e5:
        # NIfTI-MRS stores MHz; some converters (spec2nii's LCModel .RAW reader) write Hz.
        warnings.append(f"'{os.path.basename(path)}': SpectrometerFrequency {frequency:g} read as Hz "
                        f"({frequency / 1e6:g} MHz); NIfTI-MRS stores MHz")
        frequency = frequency / 1e6
    nucleus = meta.get("ResonantNucleus")
    if isinstance(nucleus, (list, tuple)):
        nucleus = nucleus[0] if nucleus else None
    metadata = {k: v for k, v in meta.items() if k not in ("ProcessingApplied",)}
    metadata.update({"source_format": "NIfTI-MRS", "path": path})
    if warnings:
        metadata["warnings"] = warnings
    return MRSData(fid=fid, dwell_s=dwell, spectrometer_mhz=float(frequency), nucleus=nucleus_name(nucleus),
                   te_s=_seconds(meta.get("EchoTime")), tr_s=_seconds(meta.get("RepetitionTime")),
                   affine=np.asarray(image.affine, dtype=float), metadata=metadata, dim_tags=tags,
                   history=list(meta.get("ProcessingApplied") or []))


def _seconds(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def write_nifti_mrs(mrs, path, anonymise=False):
    """Write an MRSData-like object as NIfTI-MRS; returns the path.

    Spatial axes beyond those present are added as size 1; higher dimensions keep their tags.
    Header fields of ``mrs.metadata`` that are NIfTI-MRS keys are written back unchanged."""
    nibabel = _nibabel()
    fid = np.asarray(mrs.fid, dtype=np.complex64)
    tags = list(getattr(mrs, "dim_tags", None) or [])
    n_spatial = fid.ndim - 1 - len(tags)
    if n_spatial > 3 or len(tags) > 3:
        raise InputError(f"NIfTI-MRS writer: fid shape {fid.shape} with tags {tags} does not fit "
                         "3 spatial + 3 higher dimensions")
    spatial = fid.shape[:n_spatial]
    data = fid.reshape(tuple(spatial) + (1,) * (3 - n_spatial) + fid.shape[n_spatial:])
    data = np.moveaxis(data, -1, 3)
    affine = getattr(mrs, "affine", None)
    affine = np.eye(4) if affine is None else np.asarray(affine, dtype=float)
    image_class = nibabel.Nifti2Image if data.size > 2 ** 31 else nibabel.Nifti1Image
    image = image_class(data, affine)
    header = image.header
    header.set_xyzt_units("mm", "sec")
    zooms = list(header.get_zooms())
    zooms[3] = float(mrs.dwell_s)
    header.set_zooms(zooms)
    header["intent_name"] = INTENT.encode()
    meta = {}
    for key, value in (getattr(mrs, "metadata", None) or {}).items():
        if key[:1].isupper() and _json_ready(value):
            meta[key] = value
    if anonymise:
        for key in SUBJECT_KEYS:
            meta.pop(key, None)
    meta["SpectrometerFrequency"] = [float(mrs.spectrometer_mhz)]
    meta["ResonantNucleus"] = [getattr(mrs, "nucleus", None) or "1H"]
    if getattr(mrs, "te_s", None) is not None:
        meta["EchoTime"] = float(mrs.te_s)
    if getattr(mrs, "tr_s", None) is not None:
        meta["RepetitionTime"] = float(mrs.tr_s)
    for index, tag in enumerate(tags):
        meta[f"dim_{5 + index}"] = tag
    # Standard ProcessingApplied entries only (Time, Program, Version, Method, Details): the
    # numeric results some steps keep in memory ("Parameters") are left out of the file.
    from ..processing.history import history_entries
    history = history_entries(mrs)
    if history:
        meta["ProcessingApplied"] = history
    header.extensions.append(nibabel.nifti1.Nifti1Extension(NIFTI_MRS_ECODE, json.dumps(meta).encode()))
    nibabel.save(image, os.fspath(path))
    return os.fspath(path)


def _json_ready(value):
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False
