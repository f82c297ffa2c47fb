"""Reading a T1-mapping acquisition (before or during gas) from files, with the value that varies per
image and where it came from: inversion times for inversion recovery and Look-Locker, flip angles for VFA.

Inversion times are read from the images' metadata, never from file names:
- a folder of 3D NIfTI files with BIDS JSON sidecars: each sidecar's ``InversionTime`` (s), files sorted
  by it (the multi-echo reader of TMEMonitorLib.io sorts by EchoTime, which IR images share);
- a DICOM folder holding one series per inversion time (the usual IR export): each series' DICOM
  InversionTime (0018,0082), ms, series sorted by it;
- any 4D file (or one DICOM series holding every TI): the inversion times must be typed (ms).
Flip angles of a VFA acquisition come from ``TMEMonitorLib.io.read_series(axis_name="flip_angle")``.
"""
import os

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.relaxometry.inversion_recovery import checked_inversion_times

T1_SERIES_METHODS = ("vfa", "ir", "look-locker")
GEOMETRY_TOLERANCE_MM = 1e-3


def _stack(items, path, what):
    """(array (n, k, j, i), values, ijk_to_ras) from [(value, Volume, name)] sorted by value."""
    items = sorted(items, key=lambda item: item[0])
    for first, second in zip(items, items[1:]):
        if first[0] == second[0]:
            raise MetadataError(f"{path}: {first[2]} and {second[2]} have the same {what} {first[0] * 1e3:g} ms; "
                                "duplicate inversion times cannot be told apart")
    reference = items[0][1]
    for value, volume, name in items[1:]:
        if volume.array.shape != reference.array.shape or \
                np.abs(volume.ijk_to_ras - reference.ijk_to_ras).max() > GEOMETRY_TOLERANCE_MM:
            raise InputError(f"{path}: {name} (grid {volume.array.shape}) does not share the grid and geometry of "
                             f"{items[0][2]} ({reference.array.shape})")
    return (np.stack([item[1].array for item in items]), np.array([item[0] for item in items]),
            reference.ijk_to_ras, [item[2] for item in items])


def _from_nifti_folder(path):
    from TMEMonitorLib.io import bids_sidecar, read_volume
    from TMEMonitorLib.io.nifti_echoes import nifti_files
    items, missing = [], []
    for file_path in nifti_files(path):
        json_path = bids_sidecar.companion(file_path, ".json")
        value = bids_sidecar.read_json(json_path).get("InversionTime") if json_path else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            missing.append(os.path.basename(file_path))
            continue
        items.append((float(value), read_volume(file_path), os.path.basename(file_path)))
    if missing:
        raise MetadataError(f"{path}: no BIDS InversionTime (s) in the JSON sidecar of {', '.join(missing)}")
    return items, "BIDS sidecar InversionTime (s) of each file, sorted by inversion time"


def _from_dicom_series(path):
    from TMEMonitorLib.io.dicom_metadata import series_metadata
    from TMEMonitorLib.io.dicom_records import scan
    from TMEMonitorLib.io.dicom_series import read_dicom_volume
    series, _ = scan(path)
    if len(series) < 2:
        return None, ""
    items = []
    for uid, records in series.items():
        value = series_metadata(records[0].header).get("TI_s")
        name = f"series {records[0].header.get('SeriesNumber', uid)}"
        if value is None:
            raise MetadataError(f"{path}: DICOM {name} has no InversionTime (0018,0082)")
        items.append((float(value), read_dicom_volume(path, series=uid), name))
    return items, "DICOM InversionTime (0018,0082) of each series, sorted by inversion time"


def read_t1_series(path, method, values=None, option="--t1-air-series", values_option="--ti-air"):
    """(array (n, k, j, i), values, source, ijk_to_ras, metadata) of one T1-mapping acquisition.

    ``values``: typed inversion times (s) or flip angles (deg), in the order of the images of a 4D file."""
    from TMEMonitorLib import io
    if method not in T1_SERIES_METHODS:
        raise InputError(f"T1 method '{method}' is not one of {', '.join(T1_SERIES_METHODS)} (--t1-method)")
    if method == "vfa":
        if values is not None:
            series = io.read_series(path, axis_name="flip_angle", axis_values=values)
            return series.array, np.asarray(values, float), f"command line {values_option} (deg)", \
                series.ijk_to_ras, series.metadata
        try:
            series = io.read_series(path, axis_name="flip_angle")
        except MetadataError as error:
            raise MetadataError(f"{option} {path}: no flip angles found ({error}); give them with {values_option} "
                                "in degrees") from None
        return series.array, series.axis_values, series.provenance.get("axis_values", "read_series"), \
            series.ijk_to_ras, series.metadata
    items, source = None, ""
    if os.path.isdir(path):
        from TMEMonitorLib.io.nifti_echoes import is_nifti_folder
        if is_nifti_folder(path):
            if values is not None:
                raise InputError(f"{option} {path}: a folder of NIfTI files is paired with inversion times by its "
                                 f"JSON sidecars; {values_option} applies to a 4D file only")
            items, source = _from_nifti_folder(path)
        elif values is None:
            items, source = _from_dicom_series(path)
    if items:
        array, ti, ijk_to_ras, names = _stack(items, path, "inversion time")
        ti = checked_inversion_times(ti, array.shape[0], f"{option} inversion times")
        return array, ti, f"{source}: {', '.join(names)}", ijk_to_ras, items[0][1].metadata
    if values is None:
        raise MetadataError(f"{option} {path}: no per-image inversion times found (a 4D file or a single series); "
                            f"give them with {values_option} in ms, in the order of the images")
    series = io.read_series(path, frame_time_s=1.0)          # the frame index only: the typed TIs replace it
    if series.array.shape[0] != len(values):
        raise InputError(f"{option} {path}: {len(values)} inversion time(s) given for {series.array.shape[0]} images "
                         f"({values_option})")
    # checked here, before a sequence node is made: it orders frames by index value and would hide a
    # duplicate (one frame replacing another) or an unsorted list
    values = checked_inversion_times(values, series.array.shape[0], f"{option} inversion times ({values_option})")
    return series.array, values, f"command line {values_option} (ms)", series.ijk_to_ras, series.metadata
