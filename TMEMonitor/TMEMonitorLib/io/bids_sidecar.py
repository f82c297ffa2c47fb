"""Acquisition facts beside a NIfTI file: a BIDS JSON sidecar and FSL .bval/.bvec files.

BIDS units: RepetitionTime, EchoTime, FrameTimesStart, VolumeTiming in s; FlipAngle in
degrees; MagneticFieldStrength in T (BIDS specification, "Magnetic Resonance Imaging").
"""
import json
import os

import numpy as np

from ..errors import InputError, MetadataError


def companion(nifti_path, extension):
    """Path of ``<basename><extension>`` next to a .nii/.nii.gz file, or None if absent."""
    base = nifti_path[:-7] if nifti_path.endswith(".nii.gz") else os.path.splitext(nifti_path)[0]
    candidate = base + extension
    return candidate if os.path.isfile(candidate) else None


def read_json(path):
    try:
        with open(path, "rb") as handle:
            content = json.loads(handle.read().decode("utf-8-sig"))
    except (OSError, ValueError) as error:
        raise InputError("JSON sidecar %s cannot be read: %s" % (path, error)) from None
    if not isinstance(content, dict):
        raise InputError("JSON sidecar %s does not hold an object" % path)
    return content


def sidecar_metadata(sidecar):
    """Project metadata (s, deg, T) from a BIDS sidecar dict."""
    metadata = {}
    tr = sidecar.get("RepetitionTimeExcitation", sidecar.get("RepetitionTime"))
    for key, value in (("TR_s", tr), ("TE_s", sidecar.get("EchoTime")), ("TI_s", sidecar.get("InversionTime")),
                       ("flip_angle_deg", sidecar.get("FlipAngle")),
                       ("field_strength_T", sidecar.get("MagneticFieldStrength"))):
        if isinstance(value, (int, float)):
            metadata[key] = float(value)
    for key, name in (("manufacturer", "Manufacturer"), ("manufacturer_model", "ManufacturersModelName"),
                      ("series_description", "SeriesDescription"), ("series_instance_uid", "SeriesInstanceUID"),
                      ("series_number", "SeriesNumber"), ("protocol_name", "ProtocolName")):
        if sidecar.get(name) not in (None, ""):
            metadata[key] = sidecar[name]
    return metadata


def sidecar_frame_times(sidecar, n_frames, path):
    """(times s, provenance) from a sidecar, (None, reason) when it gives none.

    RepetitionTime is the volume spacing in BIDS, but converters write the excitation TR
    there for 3D sequences (a DCE series has TR of a few ms), so it is trusted as frame
    spacing only when RepetitionTimeExcitation is also given or the sequence is EPI.
    """
    for key in ("FrameTimesStart", "VolumeTiming"):
        values = sidecar.get(key)
        if values is not None:
            if isinstance(values, (int, float)) and not isinstance(values, bool):
                values = [values]
            if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                       for v in values):
                raise MetadataError("%s: %s must be a list of numbers (s), got %s" % (path, key, str(values)[:80]))
            values = np.asarray(values, dtype=float).ravel()
            if values.size != n_frames:
                raise MetadataError("%s: %s has %d values but the image has %d frames"
                                    % (path, key, values.size, n_frames))
            return values, "BIDS sidecar %s \"%s\" (s)" % (os.path.basename(path), key)
    tr = sidecar.get("RepetitionTime")
    if isinstance(tr, (int, float)):
        sequence = str(sidecar.get("ScanningSequence", "")).upper()
        if "RepetitionTimeExcitation" in sidecar or "EP" in sequence.replace("\\", " ").split():
            return (np.arange(n_frames) * float(tr),
                    "BIDS sidecar %s \"RepetitionTime\" (s, uniform volume spacing)" % os.path.basename(path))
        return None, ("%s has RepetitionTime=%g s, which may be the excitation TR rather than the time between "
                      "volumes, and no FrameTimesStart/VolumeTiming" % (os.path.basename(path), tr))
    return None, "%s has no FrameTimesStart, VolumeTiming or RepetitionTime" % os.path.basename(path)


def _read_numbers(path):
    try:
        with open(path, encoding="utf-8") as handle:
            rows = [line.split() for line in handle if line.strip()]
        return [[float(x) for x in row] for row in rows]
    except (OSError, ValueError) as error:
        raise InputError("%s cannot be read as numbers: %s" % (path, error)) from None


def read_bval(path, n_frames):
    values = np.array([x for row in _read_numbers(path) for x in row], dtype=float)
    if values.size != n_frames:
        raise MetadataError("%s has %d b-values but the image has %d frames" % (path, values.size, n_frames))
    return values


def read_bvec(path, n_frames):
    """(n_frames, 3) gradient directions from an FSL .bvec (3 rows, or one row per frame)."""
    rows = _read_numbers(path)
    array = np.array(rows, dtype=float)
    if array.shape == (3, n_frames):
        return array.T
    if array.shape == (n_frames, 3):
        return array
    raise MetadataError("%s has shape %s; expected 3 x %d" % (path, array.shape, n_frames))
