"""Physically impossible map values flagged in a fit-status map.

A fit can converge inside its numeric bounds to a value no tissue can have when the bounds are
loose or the model is linearised (a log-linear ADC below zero on noisy data, ve above 1 with a
wrong T10). Such voxels keep their value in the map (so it can be inspected) but are marked
``IMPLAUSIBLE`` in the status map and left out of region statistics. The limits are the quantity
registry's (``quantities.PHYSICAL_LIMITS``).
"""
import numpy as np

from . import quantities
from .fitting import status as fit_status

# A voxel with one of these statuses is re-labelled when a value is impossible; failed, masked and
# no-signal voxels keep their (more basic) reason.
_RELABELLED = (fit_status.OK, fit_status.HIT_BOUND)


def implausible_mask(name, values):
    """True where ``values`` (a map called ``name``) lies outside its physical limits; all False
    for a quantity without limits. NaN is never implausible (it is missing)."""
    values = np.asarray(values, dtype=float)
    limits = quantities.physical_limits(name)
    out = np.zeros(values.shape, bool)
    if limits is None:
        return out
    lower, upper = limits
    with np.errstate(invalid="ignore"):
        if lower is not None:
            out |= values < lower
        if upper is not None:
            out |= values > upper
    return out


def flag_implausible(status, maps):
    """A copy of ``status`` with IMPLAUSIBLE where any of ``maps`` (name -> array of the status
    shape) holds an impossible value in a voxel that was OK or hit a bound."""
    status = np.array(status, dtype=fit_status.DTYPE, copy=True)
    bad = np.zeros(status.shape, bool)
    for name, values in maps.items():
        values = np.asarray(values)
        if values.shape != status.shape:
            raise ValueError(f"map '{name}' {values.shape} and the status map {status.shape} differ in shape")
        bad |= implausible_mask(name, values)
    status[bad & np.isin(status, _RELABELLED)] = fit_status.IMPLAUSIBLE
    return status
