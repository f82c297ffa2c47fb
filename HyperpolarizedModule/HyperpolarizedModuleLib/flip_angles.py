"""Flip-angle schedules of hyperpolarized acquisitions: units, shapes and the per-frame scaling.

Every excitation uses up hyperpolarized magnetisation that does not recover: after a pulse of
angle theta the longitudinal magnetisation is Mz+ = Mz cos(theta) and the signal is Mz sin(theta).
With several excitations per frame (phase-encoded MRSI, multi-shot EPI) the frame's signal is
the mean of the excitations' signals and Mz leaves the frame scaled by the product of the cosines:

    signal_scale(n) = mean_e [ sin(theta_e) * prod_{m<e} cos(theta_m) ]
    mz_scale(n)     = prod_e cos(theta_e)

(Larson et al., MRM 2013, doi:10.1002/mrm.24645; the same convention as the UCSF
hyperpolarized-mri-toolbox's multi-excitation scaling.)
"""
import numpy as np

from TMEMonitorLib.errors import InputError

# A schedule whose every non-zero angle is at most this (deg) was almost surely written in radians:
# pi/2 rad = 1.5708 reads as 1.57 deg. No hyperpolarized protocol uses only flips below 1.6 deg.
RADIANS_SUSPECT_MAX = 1.6
SIN_EPSILON = 1e-9           # |signal scale| below this: the frame carries no information on Mz


def checked_schedule(flip_deg, n_frames, name, unit_source="argument (degrees)"):
    """Flip angles in degrees as an (n_frames, n_excitations) float array; InputError naming ``name``.

    ``flip_deg``: a scalar, one value per frame (n_frames,), or (n_frames, n_excitations).
    A schedule that looks like radians (every non-zero angle <= 1.6) is refused: the caller
    said degrees (``unit_source`` says where that came from)."""
    if flip_deg is None:
        raise InputError(f"{name}: no flip angle given (degrees, scalar, per frame or per frame and excitation)")
    try:
        values = np.asarray(flip_deg, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name}: flip angles must be numbers in degrees, got {flip_deg!r}") from None
    if values.ndim == 0:
        values = np.full((n_frames, 1), float(values))
    elif values.ndim == 1:
        if values.size != n_frames:
            raise InputError(f"{name}: {values.size} flip angle(s) for {n_frames} frames (one per frame, or a "
                             f"scalar, or (frames, excitations)); read from {unit_source}")
        values = values[:, None]
    elif values.ndim == 2:
        if values.shape[0] != n_frames:
            raise InputError(f"{name}: schedule of shape {values.shape} has {values.shape[0]} rows for {n_frames} "
                             "frames (expected (frames, excitations))")
    else:
        raise InputError(f"{name}: flip angles of shape {values.shape}; expected a scalar, (frames,) or "
                         "(frames, excitations)")
    if values.shape[1] == 0 or not np.all(np.isfinite(values)):
        raise InputError(f"{name}: flip angles must be finite numbers (degrees)")
    if np.any(values < 0) or np.any(values > 180):
        raise InputError(f"{name}: flip angles must lie in [0, 180] degrees; got {values.min():g}..{values.max():g}")
    nonzero = values[values > 0]
    if nonzero.size == 0:
        raise InputError(f"{name}: every flip angle is 0: no signal was acquired")
    if nonzero.max() <= RADIANS_SUSPECT_MAX:
        raise InputError(f"{name}: every flip angle is <= {RADIANS_SUSPECT_MAX} although the unit read is degrees "
                         f"(from {unit_source}); largest {nonzero.max():g}. These look like radians: convert them "
                         "(x 180/pi) or give the unit explicitly")
    return values


def to_degrees(values, unit, name):
    """Angles converted from ``unit`` ("deg"/"degree(s)"/"rad"/"radian(s)") to degrees; InputError otherwise."""
    unit_key = (unit or "").strip().lower()
    if unit_key in ("deg", "degree", "degrees", "°"):
        return np.asarray(values, dtype=float)
    if unit_key in ("rad", "radian", "radians"):
        return np.degrees(np.asarray(values, dtype=float))
    raise InputError(f"{name}: unknown flip-angle unit '{unit}' (expected deg or rad)")


def scaling_factors(schedule_deg):
    """(signal_scale, mz_scale), each (n_frames,), from an (n_frames, n_excitations) schedule in degrees."""
    theta = np.radians(np.asarray(schedule_deg, dtype=float))
    cos, sin = np.cos(theta), np.sin(theta)
    # Mz remaining before each excitation of the frame, relative to the frame's start.
    before = np.cumprod(np.concatenate([np.ones((theta.shape[0], 1)), cos[:, :-1]], axis=1), axis=1)
    signal_scale = np.mean(sin * before, axis=1)
    mz_scale = np.prod(cos, axis=1)
    return signal_scale, mz_scale


def informative(signal_scale):
    """Frames whose signal says something about Mz (sin theta not ~0)."""
    return np.abs(np.asarray(signal_scale)) > SIN_EPSILON
