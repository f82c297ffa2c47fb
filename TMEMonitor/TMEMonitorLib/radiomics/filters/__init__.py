"""IBSI 2 convolutional filters: ``filter_image(image, filter_settings)`` -> SimpleITK
float32 response map.

filter_settings keys: ``filter`` ("mean", "log", "laws", "gabor", "wavelet", "simoncelli"),
``padding`` ("constant", "nearest", "periodic", "mirror"; default "mirror"),
``dimensions`` ("3D" default, or "2D" = in each slice); per filter:
mean ``support`` (voxels, odd); log ``sigma_mm``, ``truncate`` (default 4);
laws ``kernel`` (e.g. "L5E5E5", x y z order), ``rotation_invariance``, ``pooling`` ("max",
"average", "min"), ``energy_distance`` (voxels, None = response without energy);
gabor ``sigma_mm``, ``wavelength_mm``, ``gamma``, ``theta_deg`` or ``theta_step_deg``
(orientation pooling by averaging), ``orthogonal_planes`` (3D rotation invariance);
wavelet ``family`` (haar, db1..db10, coif1, coif2), ``subband`` (e.g. "LHL", x y z order),
``level``, ``decimated``, ``rotation_invariance``, ``pooling``; simoncelli ``level``.
"""
import numpy as np
import SimpleITK as sitk

from ...errors import InputError
from ..image_input import read_image
from .basic import log_filter, mean_filter
from .gabor import gabor_filter
from .laws import laws_filter
from .padding import check_mode
from .wavelets import simoncelli_filter, wavelet_filter

FILTERS = ("mean", "log", "laws", "gabor", "wavelet", "simoncelli")


def apply_filter(array, spacing, settings):
    """The response map of a (z, y, x) array with spacing (z, y, x) mm."""
    settings = dict(settings or {})
    name = str(settings.get("filter", "")).lower()
    if name not in FILTERS:
        raise InputError(f"radiomics filter: 'filter' must be one of {FILTERS}, got {settings.get('filter')!r}")
    mode = check_mode(settings.get("padding", "mirror"))
    dims = str(settings.get("dimensions", "3D")).upper()
    if dims not in ("2D", "3D"):
        raise InputError(f"radiomics filter: dimensions must be '2D' or '3D', got {dims!r}")
    two_d = dims == "2D"
    array = np.asarray(array, dtype=np.float64)
    if name == "mean":
        return mean_filter(array, spacing, settings.get("support", 3), mode, two_d)
    if name == "log":
        return log_filter(array, spacing, float(settings.get("sigma_mm", 0)), mode, two_d,
                          float(settings.get("truncate", 4.0)))
    if name == "laws":
        return laws_filter(array, settings.get("kernel", "L5E5E5" if not two_d else "L5E5"), mode, two_d,
                           bool(settings.get("rotation_invariance", False)), settings.get("pooling", "max"),
                           settings.get("energy_distance"))
    if name == "gabor":
        if not two_d and not settings.get("orthogonal_planes", False):
            # a Gabor kernel is 2D: without orthogonal planes it runs in the (y, x) slices
            pass
        return gabor_filter(array, spacing, float(settings.get("sigma_mm", 0)),
                            float(settings.get("wavelength_mm", 0)), mode, float(settings.get("gamma", 1.0)),
                            float(settings.get("theta_deg", 0.0)), settings.get("theta_step_deg"),
                            bool(settings.get("orthogonal_planes", False)) and not two_d)
    if name == "wavelet":
        return wavelet_filter(array, settings.get("subband", "LLH" if not two_d else "LH"),
                              settings.get("family", "haar"), settings.get("level", 1), mode, two_d,
                              bool(settings.get("decimated", False)),
                              bool(settings.get("rotation_invariance", False)), settings.get("pooling", "average"))
    return simoncelli_filter(array, settings.get("level", 1), mode, two_d)


def filter_image(image, filter_settings):
    """IBSI 2 response map of ``image`` (SimpleITK image or path) as a float32 SimpleITK
    image on the same grid (decimated wavelets: a coarser grid, spacing x 2 per level)."""
    image = read_image(image, "image")
    if image.GetDimension() != 3:
        raise InputError(f"radiomics filter: expected a 3D image, got {image.GetDimension()}D")
    array = sitk.GetArrayFromImage(image).astype(np.float64)
    spacing = tuple(reversed(image.GetSpacing()))
    out = apply_filter(array, spacing, filter_settings)
    result = sitk.GetImageFromArray(out.astype(np.float32))
    if out.shape == array.shape:
        result.CopyInformation(image)
    else:
        factor = [a / b for a, b in zip(reversed(array.shape), reversed(out.shape))]
        result.SetSpacing([s * f for s, f in zip(image.GetSpacing(), factor)])
        result.SetOrigin(image.GetOrigin())
        result.SetDirection(image.GetDirection())
    return result
