"""A folder of per-echo 3D NIfTI files with BIDS JSON sidecars (as dcm2niix writes a multi-echo
series: ``name_e1.nii.gz`` + ``name_e1.json`` with EchoTime in s and EchoNumber) read as one
series along echo time.

Frames are sorted by the sidecars' EchoTime, never by file name (e1, e10, e11, e2 ... sort
wrongly as text). Every file must have the same grid and geometry; two files with the same
echo time are refused.
"""
import os

import numpy as np
import SimpleITK as sitk

from ..errors import InputError, MetadataError
from . import bids_sidecar, nifti_nan
from .axis import check_overrides, resolve_axis
from .geometry import ijk_to_ras_from_sitk
from .plausibility import check_finite_frames, check_magnitude
from .series import Series

GEOMETRY_TOLERANCE_MM = 1e-3


def nifti_files(folder):
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.lower().endswith((".nii", ".nii.gz")) and not name.startswith("."))


def is_nifti_folder(folder):
    """True for a folder whose top level holds NIfTI files and no DICOM files."""
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    has_nifti = any(name.lower().endswith((".nii", ".nii.gz")) for name in names)
    if not has_nifti:
        return False
    for name in names:
        candidate = os.path.join(folder, name)
        if os.path.isdir(candidate):
            return False          # nested folders: a DICOM tree, read by the DICOM reader
        try:
            with open(candidate, "rb") as handle:
                handle.seek(128)
                if handle.read(4) == b"DICM":
                    return False
        except OSError:
            continue
    return True


def _echo_time(sidecar, json_path, nifti_path):
    if json_path is None:
        raise MetadataError("%s has no JSON sidecar (%s.json): its echo time is unknown"
                            % (nifti_path, os.path.basename(nifti_path).split(".nii")[0]))
    value = sidecar.get("EchoTime")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise MetadataError("%s: EchoTime = %r is not a positive number of seconds (BIDS)" % (json_path, value))
    return float(value)


def read_echo_folder(folder, **overrides):
    """:class:`Series` (echoes, slices, rows, cols) along ``echo_time`` (s) from per-echo NIfTI files."""
    check_overrides(overrides)
    from .nifti_series import read_sitk_image     # late import: nifti_series imports this package's siblings
    files = nifti_files(folder)
    if len(files) < 2:
        raise InputError("folder %s holds %d NIfTI file(s); a multi-echo series needs one file per echo (2 or more)"
                         % (folder, len(files)))
    echoes = []
    for path in files:
        json_path = bids_sidecar.companion(path, ".json")
        sidecar = bids_sidecar.read_json(json_path) if json_path else {}
        echoes.append((_echo_time(sidecar, json_path, path), path, json_path, sidecar))
    echoes.sort(key=lambda item: item[0])
    times = [item[0] for item in echoes]
    for a, b in zip(echoes, echoes[1:]):
        if a[0] == b[0]:
            raise MetadataError("folder %s: %s and %s have the same EchoTime %g s: duplicate echo times cannot be "
                                "told apart" % (folder, os.path.basename(a[1]), os.path.basename(b[1]), a[0]))
    dtype = overrides.get("dtype", np.float64)
    arrays, reference = [], None
    for _, path, _, _ in echoes:
        image = read_sitk_image(path)
        if image.GetDimension() == 4 and image.GetSize()[3] == 1:
            image = image[:, :, :, 0]
        if image.GetNumberOfComponentsPerPixel() != 1 or image.GetDimension() not in (2, 3):
            raise InputError("%s is not a 3D scalar volume (size %s); a multi-echo folder holds one 3D file per echo"
                             % (path, image.GetSize()))
        if image.GetDimension() == 2:
            image = sitk.JoinSeries([image])
        matrix = ijk_to_ras_from_sitk(image)
        if reference is None:
            reference = (image.GetSize(), matrix, path)
        elif image.GetSize() != reference[0] or np.abs(matrix - reference[1]).max() > GEOMETRY_TOLERANCE_MM:
            raise InputError("folder %s: %s (size %s) does not share the grid and geometry of %s (size %s)"
                             % (folder, os.path.basename(path), image.GetSize(), os.path.basename(reference[2]),
                                reference[0]))
        array = sitk.GetArrayFromImage(image).astype(dtype, copy=False)
        if np.issubdtype(array.dtype, np.floating):
            mask = nifti_nan.nan_masks(path, array.shape, 1).get(0)
            if mask is not None:
                array[mask] = np.nan
        arrays.append(array)
    array = np.stack(arrays)
    names = [os.path.basename(item[2]) for item in echoes]
    axis_name, values, source, warnings = resolve_axis(
        "echo_time", np.array(times), "BIDS sidecar EchoTime (s) of each file, sorted by echo time: "
        + ", ".join(names), len(echoes), folder, dict(overrides, axis_name=overrides.get("axis_name") or "echo_time"))
    warnings += check_finite_frames(array, folder, [os.path.basename(item[1]) for item in echoes])
    check_magnitude(array, folder)
    metadata = bids_sidecar.sidecar_metadata(echoes[0][3])
    metadata.pop("TE_s", None)
    metadata["echo_files"] = [item[1] for item in echoes]
    numbers = [item[3].get("EchoNumber") for item in echoes]
    if all(isinstance(n, (int, float)) for n in numbers):
        metadata["echo_numbers"] = [int(n) for n in numbers]
    provenance = {"geometry": "NIfTI header of %s read by SimpleITK (LPS → RAS)" % os.path.basename(echoes[0][1]),
                  "axis_values": source, "frames": "one NIfTI file per echo"}
    return Series(array=array, axis_name=axis_name, axis_values=values, ijk_to_ras=reference[1], metadata=metadata,
                  provenance=provenance, warnings=warnings, source=folder)
