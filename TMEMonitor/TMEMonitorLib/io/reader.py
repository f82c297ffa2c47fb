"""Entry points: :func:`read_series` (4D) and :func:`read_volume` (3D) for DICOM, NIfTI, NRRD
and any other file SimpleITK reads. The reader is chosen from the path."""
import os

import numpy as np
import SimpleITK as sitk

from ..errors import InputError, MetadataError
from . import bids_sidecar, nifti_echoes, nifti_nan
from .axis import check_overrides, resolve_axis
from .dicom_series import read_dicom_series, read_dicom_volume
from .geometry import ijk_to_ras_from_sitk
from .nifti_series import read_nifti_series, read_sitk_image, sitk_4d_array
from .nrrd_series import read_nrrd_series
from .plausibility import check_finite_frames, check_magnitude
from .series import Series, Volume


def _is_nifti(path):
    return path.lower().endswith((".nii", ".nii.gz"))


def _is_nrrd(path):
    return path.lower().endswith((".nrrd", ".nhdr"))


def _is_dicom_file(path):
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def _require_readable(path):
    """The path as a str; an InputError that says whether it is missing or unreadable."""
    path = os.fspath(path)
    if not os.path.exists(path):
        parent = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(parent) and not os.access(parent, os.R_OK | os.X_OK):
            raise InputError("input %s cannot be reached: permission denied on folder %s" % (path, parent))
        raise InputError("input %s does not exist" % path)
    if not os.access(path, os.R_OK):
        raise InputError("input %s cannot be read: permission denied" % path)
    return path


def read_series(path, **overrides):
    """Read a 4D series (frames along time or b) from a DICOM folder, NIfTI, NRRD or other 4D image.

    A folder of per-echo 3D NIfTI files with BIDS sidecars (EchoTime) is read as a multi-echo
    series (axis "echo_time", s).

    Overrides: ``series=`` (DICOM folder with several series), ``axis_name=`` ("time"/"b"/"echo_time"),
    ``axis_values=`` (one per frame), ``frame_time_s=`` (uniform frame spacing, s),
    ``dtype=`` (default float64), ``philips_floating_point=`` (apply Philips private scaling).
    """
    check_overrides(overrides)
    path = _require_readable(path)
    if os.path.isdir(path) and nifti_echoes.is_nifti_folder(path):
        return nifti_echoes.read_echo_folder(path, **overrides)
    if os.path.isdir(path) or _is_dicom_file(path):
        return read_dicom_series(path, **overrides)
    if _is_nifti(path):
        return read_nifti_series(path, **overrides)
    if _is_nrrd(path):
        return read_nrrd_series(path, **overrides)
    return _read_generic_series(path, **overrides)


def _read_generic_series(path, **overrides):
    """A 4D image of another format: the axis must come from the overrides."""
    image = read_sitk_image(path)
    array = sitk_4d_array(image, path, overrides.get("dtype", np.float64))
    if overrides.get("axis_values") is None and overrides.get("frame_time_s") is None:
        raise MetadataError("%s: this format stores no frame times or b-values; pass frame_time_s= (uniform "
                            "spacing, s) or axis_values= with axis_name='time' or 'b'" % path)
    axis_name, values, source, warnings = resolve_axis(
        overrides.get("axis_name") or "time", None, None, array.shape[0], path, overrides)
    warnings += check_finite_frames(array, path)
    check_magnitude(array, path)
    return Series(array=array, axis_name=axis_name, axis_values=values, ijk_to_ras=ijk_to_ras_from_sitk(image),
                  metadata={}, provenance={"geometry": "image header read by SimpleITK (LPS → RAS)",
                                           "axis_values": source}, warnings=warnings, source=path)


def read_segmentation_labels(path, dtype=np.float64):
    """A Slicer segmentation file (.seg.nrrd) as a 3D label volume on its own grid: the label values
    of a single-layer file; several layers (overlapping segments) are merged, the highest label
    winning. Used wherever a mask is read (``--mask``, ``--aif-roi``), so an exported tumour
    segmentation is a mask input."""
    from . import nrrd_file
    nrrd = nrrd_file.read_header(path)
    dimension = nrrd.integer("dimension", minimum=1)
    data = nrrd_file.read_data(nrrd)
    kinds = [k.lower() for k in (nrrd.list_field("kinds") or [])]
    if dimension == 3:
        domain, labels = [0, 1, 2], data
    elif dimension == 4:
        layer_axis = next((a for a, kind in enumerate(kinds) if kind in ("list", "vector")), 0)
        domain = [a for a in range(4) if a != layer_axis]
        labels = np.max(np.moveaxis(data, 3 - layer_axis, 0), axis=0)      # C order: axes reversed
    else:
        raise InputError("segmentation %s is %dD; expected 3D (one layer) or 4D (layers)" % (path, dimension))
    return Volume(array=np.ascontiguousarray(labels, dtype=dtype), ijk_to_ras=nrrd_file.ijk_to_ras(nrrd, domain),
                  metadata={"segments": {k: v for k, v in nrrd.keys.items() if k.startswith("Segment")}},
                  provenance={"geometry": "segmentation NRRD space directions / origin"}, warnings=[], source=path)


def read_volume(path, series=None, dtype=np.float64):
    """Read a 3D scalar volume (slices, rows, cols) from a DICOM folder/file or any SimpleITK-readable file;
    a Slicer segmentation (.seg.nrrd) as its label volume; the TMEMonitor key/value fields of a NRRD
    map (quantity, unit, map name) in ``metadata``."""
    path = _require_readable(path)
    if str(path).lower().endswith(".seg.nrrd"):
        return read_segmentation_labels(path, dtype)
    if os.path.isdir(path) or _is_dicom_file(path):
        return read_dicom_volume(path, series=series, dtype=dtype)
    image = read_sitk_image(path)
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError("%s has %d components per voxel; a scalar volume is needed"
                         % (path, image.GetNumberOfComponentsPerPixel()))
    if image.GetDimension() == 2:
        image = sitk.JoinSeries([image])
    if image.GetDimension() != 3:
        raise InputError("%s is %dD (size %s): not a 3D volume (use read_series for 4D)"
                         % (path, image.GetDimension(), image.GetSize()))
    array = sitk.GetArrayFromImage(image).astype(dtype, copy=False)
    if _is_nifti(path) and np.issubdtype(array.dtype, np.floating):
        mask = nifti_nan.nan_masks(path, array.shape, 1).get(0)
        if mask is not None:
            array[mask] = np.nan      # SimpleITK reads NaN as 0
    metadata, provenance = {}, {"geometry": "image header read by SimpleITK (LPS → RAS)"}
    if _is_nrrd(path):
        from .map_metadata import read_nrrd_fields
        metadata.update(read_nrrd_fields(path))
    if _is_nifti(path):
        json_path = bids_sidecar.companion(path, ".json")
        if json_path:
            metadata.update(bids_sidecar.sidecar_metadata(bids_sidecar.read_json(json_path)))
            provenance["metadata"] = "BIDS sidecar " + os.path.basename(json_path)
    warnings = []
    check_magnitude(array, path)
    if not np.all(np.isfinite(array)):
        if not np.any(np.isfinite(array)):
            raise InputError("%s contains only NaN/inf values" % path)
        warnings.append("%s: %d non-finite voxel value(s); kept as NaN" % (path, int(np.count_nonzero(~np.isfinite(array)))))
    return Volume(array=array, ijk_to_ras=ijk_to_ras_from_sitk(image), metadata=metadata,
                  provenance=provenance, warnings=warnings, source=path)


def place_on_grid(volume, shape, ijk_to_ras, what="mask"):
    """``volume``'s array on the grid (``shape``, ``ijk_to_ras``): as is when it is that grid; padded
    with 0 (or cut) when it is a sub-grid of it with the same voxels (a Slicer segmentation saved
    cropped to its extent); an InputError naming ``what`` otherwise (resample it first)."""
    shape = tuple(int(n) for n in shape)
    reference = np.asarray(ijk_to_ras, dtype=float)
    own = np.asarray(volume.ijk_to_ras, dtype=float)
    if volume.array.shape == shape and np.allclose(own, reference, atol=1e-3):
        return volume.array
    relation = np.linalg.solve(reference, own)            # own voxel -> reference voxel
    offset = relation[:3, 3]
    if not (np.allclose(relation[:3, :3], np.eye(3), atol=1e-4) and np.allclose(offset, np.rint(offset), atol=1e-3)):
        if volume.array.shape == shape:
            return volume.array                           # same size: the callers' grid check decides
        raise InputError("%s '%s': grid %s is not the reference grid %s nor a part of it; resample it first"
                         % (what, volume.source, volume.array.shape, shape))
    i0, j0, k0 = (int(v) for v in np.rint(offset))
    out = np.zeros(shape, dtype=volume.array.dtype)
    ks, js, is_ = volume.array.shape
    src = volume.array[max(0, -k0):ks - max(0, k0 + ks - shape[0]), max(0, -j0):js - max(0, j0 + js - shape[1]),
                       max(0, -i0):is_ - max(0, i0 + is_ - shape[2])]
    k, j, i = max(0, k0), max(0, j0), max(0, i0)
    out[k:k + src.shape[0], j:j + src.shape[1], i:i + src.shape[2]] = src
    return out
