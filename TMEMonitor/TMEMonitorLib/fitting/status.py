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

NAMES = {OK: "ok", FAILED: "failed", HIT_BOUND: "hit bound", MASKED: "masked", NO_SIGNAL: "no signal"}
DTYPE = np.uint8


def describe(status_array):
    """Counts of each status in a status map, keyed by name (for logs and tables)."""
    values, counts = np.unique(np.asarray(status_array), return_counts=True)
    return {NAMES.get(int(v), str(int(v))): int(c) for v, c in zip(values, counts)}


# --- physically impossible values (added for issue 13): a fit that converged to a value no
# tissue can have (negative ADC or Ktrans, a volume fraction above 1); flagged by
# TMEMonitorLib.plausibility.flag_implausible from the limits in the quantity registry and
# left out of region statistics like a failed fit.
IMPLAUSIBLE = 5
NAMES[IMPLAUSIBLE] = "implausible value"
