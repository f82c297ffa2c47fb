"""Read a 4D NIfTI (.nii / .nii.gz) with SimpleITK, with its BIDS JSON sidecar or FSL .bval/.bvec.

The 4th axis is b when a .bval file gives differing b-values, else time from the sidecar.
"""
import os

import numpy as np
import SimpleITK as sitk

from ..errors import InputError, MetadataError
from . import bids_sidecar, nifti_header, nifti_nan
from .axis import resolve_axis
from .geometry import ijk_to_ras_from_sitk
from .plausibility import check_finite_frames, check_magnitude
from .series import Series


def read_sitk_image(path):
    if str(path).lower().endswith((".nii", ".nii.gz")):
        nifti_header.check_nifti(path)
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as error:
        raise InputError("image file %s cannot be read: %s" % (path, str(error).strip().splitlines()[-1])) from None


def sitk_4d_array(image, path, dtype):
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError("%s has %d components per voxel; a scalar 4D image is needed"
                         % (path, image.GetNumberOfComponentsPerPixel()))
    if image.GetDimension() != 4:
        raise InputError("%s is %dD (size %s), not a 4D series" % (path, image.GetDimension(), image.GetSize()))
    return sitk.GetArrayFromImage(image).astype(dtype, copy=False)    # (t, k, j, i)


def read_nifti_series(path, **overrides):
    path = str(path)
    image = read_sitk_image(path)
    array = sitk_4d_array(image, path, overrides.get("dtype", np.float64))
    n_frames = array.shape[0]
    if np.issubdtype(array.dtype, np.floating):
        for frame, mask in nifti_nan.nan_masks(path, array.shape[1:], n_frames).items():
            array[frame][mask] = np.nan      # SimpleITK reads NaN as 0
    warnings, metadata, provenance = [], {}, {"geometry": "NIfTI header read by SimpleITK (LPS → RAS)"}
    json_path = bids_sidecar.companion(path, ".json")
    sidecar = bids_sidecar.read_json(json_path) if json_path else {}
    metadata.update(bids_sidecar.sidecar_metadata(sidecar))
    if json_path:
        provenance["metadata"] = "BIDS sidecar " + os.path.basename(json_path)
    bval_path = bids_sidecar.companion(path, ".bval")
    b_values = bids_sidecar.read_bval(bval_path, n_frames) if bval_path else None
    times, time_source = (bids_sidecar.sidecar_frame_times(sidecar, n_frames, json_path) if json_path
                          else (None, "no JSON sidecar"))
    axis_name = overrides.get("axis_name")
    if axis_name is None:
        if b_values is not None and np.unique(b_values).size > 1:
            axis_name = "b"
        elif times is not None or overrides.get("frame_time_s") is not None:
            axis_name = "time"
        elif overrides.get("axis_values") is None:
            time_step = image.GetSpacing()[3]
            raise MetadataError(
                "%s: cannot tell the 4D axis: no frame times (%s) and no .bval file with differing b-values; "
                "the NIfTI time spacing (pixdim[4] = %g) is not trusted because its unit and meaning vary; "
                "pass frame_time_s= (uniform spacing, s) or axis_values= with axis_name='time' or 'b'"
                % (path, time_source, time_step))
        else:
            raise MetadataError("%s: axis_values given but the axis is unknown; pass axis_name='time' or 'b'" % path)
    if axis_name == "b":
        detected, source = b_values, ("FSL " + os.path.basename(bval_path)) if bval_path else None
        hint = "no .bval file beside it"
        bvec_path = bids_sidecar.companion(path, ".bvec")
        if bvec_path:
            metadata["b_vectors"] = bids_sidecar.read_bvec(bvec_path, n_frames)
            metadata["b_vectors_frame"] = "FSL .bvec convention (image axes)"
            provenance["b_vectors"] = "FSL " + os.path.basename(bvec_path)
    else:
        detected, source, hint = times, time_source, time_source
    axis_name, values, axis_source, axis_warnings = resolve_axis(
        axis_name, detected, source, n_frames, path, overrides, hint if detected is None else "")
    provenance["axis_values"] = axis_source
    warnings += axis_warnings
    warnings += check_finite_frames(array, path)
    check_magnitude(array, path)
    return Series(array=array, axis_name=axis_name, axis_values=values, ijk_to_ras=ijk_to_ras_from_sitk(image),
                  metadata=metadata, provenance=provenance, warnings=warnings, source=path)
