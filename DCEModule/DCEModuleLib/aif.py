"""Arterial input functions: population models, measured (ROI) and detected AIFs.

Population AIFs return whole-blood concentration (mM); kinetic models take plasma
concentration, so convert with :func:`blood_to_plasma` (C_p = C_b / (1 - Hct)).
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .agents import DEFAULT_HEMATOCRIT
from .aif_csv import read_aif_csv  # noqa: F401  (public API)
from .aif_detection import detect_aif  # noqa: F401  (public API)
from .hematocrit import blood_to_plasma, plasma_to_blood  # noqa: F401  (public API)
from .population_aif import georgiou, mcgrath_preclinical, parker  # noqa: F401  (public API)

POPULATION_AIFS = {"parker": parker, "georgiou": georgiou, "mcgrath_preclinical": mcgrath_preclinical}


def measured_aif(concentration_4d, roi_mask, hematocrit=DEFAULT_HEMATOCRIT):
    """Plasma AIF (T,) in mM: mean whole-blood concentration over ``roi_mask`` voxels.

    ``concentration_4d``: (..., T) whole-blood concentration; ``roi_mask``: boolean over
    the leading dims. Voxels with any non-finite frame are left out of the mean.
    """
    c = np.asarray(concentration_4d, dtype=float)
    m = np.asarray(roi_mask)
    if c.ndim < 2:
        raise InputError(f"concentration_4d: expected (..., T) with voxel dims, got shape {c.shape}")
    if m.shape != c.shape[:-1]:
        raise InputError(f"roi_mask: shape {m.shape} does not match the voxel shape {c.shape[:-1]}")
    curves = c[m.astype(bool)]
    if curves.shape[0] == 0:
        raise InputError("roi_mask: the AIF ROI is empty")
    finite = np.all(np.isfinite(curves), axis=1)
    if not np.any(finite):
        raise InputError("concentration_4d: every voxel of the AIF ROI has non-finite frames")
    return blood_to_plasma(curves[finite].mean(axis=0), hematocrit)
