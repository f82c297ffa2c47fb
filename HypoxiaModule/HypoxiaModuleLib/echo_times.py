"""Echo times of a multi-echo acquisition: checked before any fit (seconds, sorted, distinct).

The module never sorts echoes itself: frames must arrive ordered by the EchoTime read from the
data (``TMEMonitorLib.io.read_series`` sorts by EchoTime, never by file name); an unsorted list
here means the frames and the times no longer match, so it is refused.
"""
import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

MIN_ECHOES = 3
MAX_TE_S = 1.0          # above this a value is almost surely in ms


def checked_echo_times(echo_times_s, n_echoes=None, what="echo_times_s", min_echoes=MIN_ECHOES):
    """``echo_times_s`` as a float array after the checks; InputError naming ``what`` otherwise."""
    if echo_times_s is None:
        raise MetadataError(f"{what}: echo times are missing; give one echo time per echo (s)")
    te = np.atleast_1d(np.asarray(echo_times_s, dtype=float))
    if te.ndim != 1:
        raise InputError(f"{what}: expected a list of echo times, got shape {te.shape}")
    if n_echoes is not None and te.size != n_echoes:
        raise InputError(f"{what}: {te.size} echo time(s) for {n_echoes} echoes")
    if te.size < min_echoes:
        raise InputError(f"{what}: {te.size} echo(es); at least {min_echoes} are needed for a relaxation fit")
    if not np.all(np.isfinite(te)) or np.any(te < 0):
        raise InputError(f"{what}: echo times must be finite and non-negative (s), got {te.tolist()}")
    if np.any(te > MAX_TE_S):
        raise InputError(f"{what}: {te.max():g} s is implausible for an echo time; are they in ms? Give seconds")
    steps = np.diff(te)
    if np.any(steps == 0):
        duplicate = te[1:][steps == 0]
        raise InputError(f"{what}: duplicate echo time(s) {', '.join(f'{v * 1e3:g} ms' for v in duplicate)}")
    if np.any(steps < 0):
        raise InputError(f"{what}: echo times are not in increasing order ({', '.join(f'{v * 1e3:g}' for v in te)} ms);"
                         " the echoes must be ordered by their EchoTime")
    return te


def echo_spacing(te, what="echo_times_s", rtol=1e-3):
    """The uniform echo spacing (s) of ``te``; InputError when the spacing is not uniform."""
    steps = np.diff(np.asarray(te, dtype=float))
    spacing = float(np.mean(steps))
    if steps.size == 0 or np.any(np.abs(steps - spacing) > rtol * spacing):
        raise InputError(f"{what}: ARLO needs equally spaced echoes; spacings are "
                         f"{', '.join(f'{s * 1e3:g}' for s in steps)} ms (use method 'nonlinear' or 'loglinear')")
    return spacing
