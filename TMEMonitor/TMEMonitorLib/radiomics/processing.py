"""IBSI 1 image processing chain (reference manual, chapter 2): interpolation with a
centre-aligned grid, intensity rounding, re-segmentation (range, outliers) and the
diagnostic features that describe each step. Discretisation is in ``discretisation.py``.

Arrays are (z, y, x); spacings are (z, y, x) in mm; slices are stacked along z.
"""
import math

import numpy as np
import SimpleITK as sitk

from ..errors import InputError

_SITK_INTERPOLATORS = {"nearest": sitk.sitkNearestNeighbor, "linear": sitk.sitkLinear,
                       "bspline": sitk.sitkBSpline}


class ProcessedImage:
    """Image and masks after processing: ``values`` (float64), ``morph_mask`` (interpolated
    ROI), ``int_mask`` (re-segmented ROI), ``spacing`` (z, y, x) mm, ``diagnostics``."""

    def __init__(self, values, morph_mask, int_mask, spacing, diagnostics, in_plane_only=False):
        self.values = values
        self.morph_mask = morph_mask
        self.int_mask = int_mask
        self.spacing = tuple(float(s) for s in spacing)
        self.diagnostics = diagnostics
        self.in_plane_only = in_plane_only


def interpolation_grid(size_xyz, spacing_xyz, new_spacing_xyz):
    """IBSI grid: size = ceil(n s / s_new); grid centre = original grid centre.

    Returns (new size, new spacing, origin shift along each axis in mm, in index axes)."""
    new_size, shift, spacing_out = [], [], []
    for n, s, s_new in zip(size_xyz, spacing_xyz, new_spacing_xyz):
        if s_new is None:
            new_size.append(int(n))
            shift.append(0.0)
            spacing_out.append(float(s))
            continue
        # round before ceil: 512 * 0.9765625 / 2 must not become 250.00000001
        n_new = int(math.ceil(round(n * s / s_new, 6)))
        new_size.append(max(n_new, 1))
        shift.append(((n - 1) * s - (n_new - 1) * s_new) / 2.0)
        spacing_out.append(float(s_new))
    return new_size, spacing_out, shift


def resample(image, new_spacing_xyz, interpolator):
    """Resample a SimpleITK image onto the IBSI centre-aligned grid (nearest-value extrapolation)."""
    size, spacing, shift = interpolation_grid(image.GetSize(), image.GetSpacing(), new_spacing_xyz)
    direction = np.array(image.GetDirection()).reshape(3, 3)
    origin = np.array(image.GetOrigin()) + direction @ np.array(shift)
    f = sitk.ResampleImageFilter()
    f.SetOutputSpacing(spacing)
    f.SetSize([int(s) for s in size])
    f.SetOutputOrigin(tuple(float(v) for v in origin))
    f.SetOutputDirection(image.GetDirection())
    f.SetInterpolator(_SITK_INTERPOLATORS[interpolator])
    f.SetOutputPixelType(sitk.sitkFloat64)
    f.SetUseNearestNeighborExtrapolator(True)
    return f.Execute(sitk.Cast(image, sitk.sitkFloat64))


def _round(values):
    # IBSI: nearest integer (round half up, not numpy's half-to-even)
    return np.floor(values + 0.5)


def _image_diagnostics(prefix_suffix, values, spacing_zyx, out):
    out[f"img_dim_x_{prefix_suffix}"] = float(values.shape[2])
    out[f"img_dim_y_{prefix_suffix}"] = float(values.shape[1])
    out[f"img_dim_z_{prefix_suffix}"] = float(values.shape[0])
    out[f"vox_dim_x_{prefix_suffix}"] = float(spacing_zyx[2])
    out[f"vox_dim_y_{prefix_suffix}"] = float(spacing_zyx[1])
    out[f"vox_dim_z_{prefix_suffix}"] = float(spacing_zyx[0])
    out[f"mean_int_{prefix_suffix}"] = float(np.mean(values))
    out[f"min_int_{prefix_suffix}"] = float(np.min(values))
    out[f"max_int_{prefix_suffix}"] = float(np.max(values))


def _bbox_dims(mask):
    if not mask.any():
        return (np.nan, np.nan, np.nan)
    idx = np.nonzero(mask)
    return tuple(float(i.max() - i.min() + 1) for i in idx)  # z, y, x


def _roi_diagnostics(suffix, values, int_mask, morph_mask, out):
    out[f"int_mask_dim_x_{suffix}"] = float(int_mask.shape[2])
    out[f"int_mask_dim_y_{suffix}"] = float(int_mask.shape[1])
    out[f"int_mask_dim_z_{suffix}"] = float(int_mask.shape[0])
    bz, by, bx = _bbox_dims(int_mask)
    out[f"int_mask_bb_dim_x_{suffix}"], out[f"int_mask_bb_dim_y_{suffix}"], out[f"int_mask_bb_dim_z_{suffix}"] = bx, by, bz
    bz, by, bx = _bbox_dims(morph_mask)
    out[f"morph_mask_bb_dim_x_{suffix}"], out[f"morph_mask_bb_dim_y_{suffix}"], out[f"morph_mask_bb_dim_z_{suffix}"] = bx, by, bz
    out[f"int_mask_vox_count_{suffix}"] = float(int_mask.sum())
    out[f"morph_mask_vox_count_{suffix}"] = float(morph_mask.sum())
    inside = values[int_mask]
    out[f"int_mask_mean_int_{suffix}"] = float(inside.mean()) if inside.size else np.nan
    out[f"int_mask_min_int_{suffix}"] = float(inside.min()) if inside.size else np.nan
    out[f"int_mask_max_int_{suffix}"] = float(inside.max()) if inside.size else np.nan


def resegment(values, mask, reseg):
    """Intensity mask: ROI voxels inside the range [low, high] (closed), then without
    outliers beyond mean +/- k SD of the remaining ROI intensities (IBSI 2.4)."""
    int_mask = mask.copy()
    reseg = reseg or {}
    rng = reseg.get("range")
    if rng is not None:
        low, high = rng
        if low is not None:
            int_mask &= values >= low
        if high is not None:
            int_mask &= values <= high
    sigma = reseg.get("outlier_sigma")
    if sigma is not None and int_mask.any():
        inside = values[int_mask]
        mean, sd = inside.mean(), inside.std()
        int_mask &= (values >= mean - sigma * sd) & (values <= mean + sigma * sd)
    return int_mask


def process(image, mask, values, roi, settings):
    """Run the IBSI processing chain. ``image``/``mask`` are the SimpleITK inputs (for their
    geometry), ``values``/``roi`` their arrays (z, y, x)."""
    diagnostics = {}
    spacing_zyx = tuple(reversed(image.GetSpacing()))
    rounding = bool(settings.get("intensity_rounding"))
    if rounding:
        values = _round(values)
    _image_diagnostics("init_img", values, spacing_zyx, diagnostics)
    _roi_diagnostics("init_roi", values, roi, roi, diagnostics)

    interp = settings.get("interpolation")
    in_plane_only = False
    if interp is not None:
        new_spacing = list(interp["spacing"])
        in_plane_only = new_spacing[2] is None
        img_f = sitk.GetImageFromArray(values)
        img_f.CopyInformation(image)
        resampled = resample(img_f, new_spacing, interp.get("method", "linear"))
        mask_f = sitk.GetImageFromArray(roi.astype(np.float64))
        mask_f.CopyInformation(image)
        mask_method = interp.get("mask_method", "linear")
        resampled_mask = resample(mask_f, new_spacing, mask_method)
        values = sitk.GetArrayFromImage(resampled)
        if rounding:
            values = _round(values)
        # IBSI partial-volume threshold; round to 1e-6 so that 0.4999999 from float error counts
        roi = np.round(sitk.GetArrayFromImage(resampled_mask), 6) >= float(interp.get("partial_volume", 0.5))
        spacing_zyx = tuple(reversed(resampled.GetSpacing()))
    _image_diagnostics("interp_img", values, spacing_zyx, diagnostics)
    _roi_diagnostics("interp_roi", values, roi, roi, diagnostics)

    int_mask = resegment(values, roi, settings.get("resegmentation"))
    _roi_diagnostics("reseg_roi", values, int_mask, roi, diagnostics)
    return ProcessedImage(values, roi, int_mask, spacing_zyx, diagnostics, in_plane_only)


def check_roi(processed, name="mask"):
    """InputError for an empty ROI before or after re-segmentation."""
    if not processed.morph_mask.any():
        raise InputError(f"radiomics {name}: the region of interest is empty "
                         "(no voxel in the mask, or none left after interpolation)")
    if not processed.int_mask.any():
        raise InputError(f"radiomics {name}: no voxel of the region of interest is left after "
                         "re-segmentation; widen resegmentation.range or drop outlier filtering")
