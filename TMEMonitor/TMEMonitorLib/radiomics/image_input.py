"""Image and mask input: SimpleITK images or paths, geometry checks, arrays in (z, y, x)."""
import os

import numpy as np
import SimpleITK as sitk

from ..errors import InputError

# Geometry tolerance: spacing/origin relative to the voxel size, direction cosines absolute.
_GEOMETRY_TOLERANCE = 1e-4


def read_image(image, name):
    """A SimpleITK image from an image or a path; ``name`` names the input in errors."""
    if isinstance(image, sitk.Image):
        return image
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if not os.path.exists(path):
            raise InputError(f"radiomics {name}: file not found: {path}")
        try:
            return sitk.ReadImage(path)
        except RuntimeError as exc:
            raise InputError(f"radiomics {name}: cannot read {path}: {exc}") from None
    raise InputError(f"radiomics {name}: expected a SimpleITK image or a path, got {type(image).__name__}")


def check_same_geometry(image, mask):
    """Raise InputError when the mask is not on the image grid (size, spacing, origin, axes)."""
    if image.GetDimension() != 3 or mask.GetDimension() != 3:
        raise InputError(f"radiomics: image and mask must be 3D (got {image.GetDimension()}D image, "
                         f"{mask.GetDimension()}D mask)")
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError("radiomics image: expected a scalar image, got a multi-component image")
    if image.GetSize() != mask.GetSize():
        raise InputError(f"radiomics mask: size {mask.GetSize()} differs from the image size "
                         f"{image.GetSize()}; resample the mask onto the image grid first")
    spacing = np.array(image.GetSpacing())
    if not np.allclose(spacing, mask.GetSpacing(), rtol=_GEOMETRY_TOLERANCE, atol=0):
        raise InputError(f"radiomics mask: spacing {mask.GetSpacing()} differs from the image "
                         f"spacing {image.GetSpacing()} mm")
    if not np.allclose(image.GetOrigin(), mask.GetOrigin(), atol=_GEOMETRY_TOLERANCE * spacing.min() * 10):
        raise InputError(f"radiomics mask: origin {mask.GetOrigin()} differs from the image origin "
                         f"{image.GetOrigin()} mm")
    if not np.allclose(image.GetDirection(), mask.GetDirection(), atol=_GEOMETRY_TOLERANCE):
        raise InputError("radiomics mask: direction cosines differ from the image's")


def image_arrays(image, mask, label=None):
    """(intensities float64, mask bool, spacing (z, y, x) mm) after the geometry checks."""
    check_same_geometry(image, mask)
    values = sitk.GetArrayFromImage(image).astype(np.float64)
    raw_mask = sitk.GetArrayFromImage(mask)
    if label is None:
        # masks read from float files may hold 0.9999...: IBSI asks for rounding
        roi = np.rint(raw_mask.astype(np.float64)) > 0 if raw_mask.dtype.kind == "f" else raw_mask != 0
    else:
        roi = raw_mask == label
    spacing = tuple(float(s) for s in reversed(image.GetSpacing()))
    return values, roi, spacing
