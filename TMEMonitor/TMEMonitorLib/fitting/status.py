"""Per-voxel fit status codes shared by every voxel-wise fit (DCE, T1, ADC/IVIM, R2*, ...).

A status map is stored as uint8 beside each fit so that a voxel that could not be
fitted is never mistaken for a true zero.
"""
import numpy as np

OK = 0          # converged inside the bounds
FAILED = 1      # did not converge, non-finite result, or singular problem
HIT_BOUND = 2   # converged, but at least one parameter sits on a bound
MASKED = 3      # outside the mask: not fitted
NO_SIGNAL = 4   # inside the mask but unusable data (all zero / NaN / too few valid samples)
NOT_EXPLAINED = 5   # converged, but the model explains nothing: R2 <= 0 (no better than a constant),
                    # parameters never left their start values, or data that do not follow the model
                    # (e.g. a diffusion signal that does not decay with b); see fitting/fit_acceptance.py

NAMES = {OK: "ok", FAILED: "failed", HIT_BOUND: "hit bound", MASKED: "masked", NO_SIGNAL: "no signal",
         NOT_EXPLAINED: "explains nothing"}
# Statuses whose parameter values are written to maps (a bound value is flagged but kept: the
# bound is the information); every other status gets NaN in every parameter map.
ACCEPTED = (OK, HIT_BOUND)
DTYPE = np.uint8


def describe(status_array):
    """Counts of each status in a status map, keyed by name (for logs and tables)."""
    values, counts = np.unique(np.asarray(status_array), return_counts=True)
    return {NAMES.get(int(v), str(int(v))): int(c) for v, c in zip(values, counts)}


# --- physically impossible values (added for issue 13): a fit that converged to a value no
# tissue can have (negative ADC or Ktrans, a volume fraction above 1); flagged by
# TMEMonitorLib.plausibility.flag_implausible from the limits in the quantity registry and
# left out of region statistics like a failed fit.
IMPLAUSIBLE = 6
NAMES[IMPLAUSIBLE] = "implausible value"
