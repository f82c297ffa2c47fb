"""Whole blood <-> plasma concentration through the hematocrit (code names use the US spelling
throughout: the `hematocrit` setting, the `--hematocrit` flag, this module; DCESettings also
accepts `haematocrit`).

The contrast agent stays out of red cells, so C_plasma = C_blood / (1 - Hct).
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .agents import DEFAULT_HEMATOCRIT


def _checked_hematocrit(hematocrit):
    try:
        hct = float(hematocrit)
    except (TypeError, ValueError):
        raise InputError(f"hematocrit: expected a fraction between 0 and 1, got {hematocrit!r}") from None
    if not 0.0 <= hct < 1.0:
        raise InputError(f"hematocrit: must be a fraction in [0, 1), got {hematocrit!r}")
    return hct


def blood_to_plasma(cb, hematocrit=DEFAULT_HEMATOCRIT):
    """Plasma concentration (mM) from whole-blood concentration ``cb`` (mM)."""
    return np.asarray(cb, dtype=float) / (1.0 - _checked_hematocrit(hematocrit))


def plasma_to_blood(cp, hematocrit=DEFAULT_HEMATOCRIT):
    """Whole-blood concentration (mM) from plasma concentration ``cp`` (mM)."""
    return np.asarray(cp, dtype=float) * (1.0 - _checked_hematocrit(hematocrit))
