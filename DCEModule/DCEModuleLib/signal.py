"""DCE signal helpers: frame times, baseline frames, bolus arrival, enhancing curves.

The SPGR signal equation and its exact inversion live once in ``TMEMonitorLib.relaxometry.spgr``
(shared with oxygen-enhanced MRI); their names are re-exported here for DCE code and the
documented ``DCEModuleLib.signal`` API.
"""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.relaxometry.spgr import (  # noqa: F401  (re-exported)
    _baseline_index, _flip_rad, _over_voxels, _positive, concentration_to_spgr, spgr_flip_factor,
    spgr_signal, spgr_steady_state, spgr_to_concentration, spgr_to_delta_r1)


def _checked_times(t_s, n_frames):
    t = np.asarray(t_s, dtype=float)
    if t.shape != (n_frames,):
        raise InputError(f"t_s: expected {n_frames} frame times, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise InputError("t_s: frame times must be finite and strictly increasing (s)")
    return t


def enhancing_mean_curve(x, top_fraction=0.1):
    """Mean curve (T,) of the most enhancing voxels of ``x`` (..., T) (or ``x`` itself if 1-D)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        return x
    flat = x.reshape(-1, x.shape[-1])
    flat = flat[np.all(np.isfinite(flat), axis=1)]
    if flat.shape[0] == 0:
        raise InputError("signal: no voxel has finite values at every frame")
    start = np.median(flat[:, : min(3, flat.shape[1])], axis=1)
    rise = flat.max(axis=1) - start
    keep = rise >= np.quantile(rise, 1.0 - top_fraction)
    return flat[keep].mean(axis=0)


def find_arrival_frame(curve, fraction=0.1):
    """Index of the first frame with contrast in a 1-D enhancement curve.

    The baseline level is the median of the frames before half the time to peak; the
    arrival is the first frame above ``fraction`` of the rise, moved back over frames
    that are already clearly (3 noise SD) above the baseline.
    """
    c = np.asarray(curve, dtype=float)
    peak = int(np.argmax(c))
    level = np.median(c[: max(1, peak // 2)])
    rise = c[peak] - level
    if not np.isfinite(rise) or rise <= 0:
        raise InputError("signal: no enhancement found, so no bolus arrival can be located")
    k = int(np.argmax(c[: peak + 1] - level > fraction * rise))
    pre = c[:k] - level
    noise = 1.4826 * np.median(np.abs(pre - np.median(pre))) if pre.size >= 3 else 0.0
    step_back_above = max(3.0 * noise, 0.02 * rise)
    while k > 0 and c[k - 1] - level > step_back_above:
        k -= 1
    return k


def find_baseline_frames(signal_or_curve, t_s, min_frames=2, fraction=0.1):
    """Indices of the pre-contrast frames (before bolus arrival).

    ``signal_or_curve``: a curve (T,) or data (..., T); for data the arrival is found on
    the mean curve of the most enhancing 10 % of voxels. Raises InputError when fewer than
    ``min_frames`` frames precede the arrival.
    """
    x = np.asarray(signal_or_curve, dtype=float)
    if x.ndim < 1 or x.shape[-1] < 3:
        raise InputError(f"signal_or_curve: expected (..., T) with T >= 3, got shape {x.shape}")
    t = _checked_times(t_s, x.shape[-1])
    curve = enhancing_mean_curve(x)
    k = find_arrival_frame(curve, fraction)
    if k < min_frames:
        raise InputError(f"signal: no baseline before bolus arrival: contrast arrives at frame {k} "
                         f"(t = {t[k]:g} s) but at least {min_frames} pre-contrast frames are needed")
    return np.arange(k)
