"""Bolus timing: the pre-contrast (baseline) frames and the tissue bolus arrival time, from
even samples of the analysed curves (no copy of the whole series)."""
import numpy as np

from TMEMonitorLib.errors import InputError

from . import signal
from .bolus_arrival import fit_bolus_arrival

CONCENTRATION_CHUNK = 16384      # voxels converted at a time (bounds the float64 temporaries)
# Voxels sampled (evenly) to time the bolus for the baseline: the mean of the most enhancing
# curves of a large even sample is the same curve, without a copy of the whole series.
BASELINE_SAMPLE = 16384


def arrival_time_s(curves, t_rel):
    """Bolus arrival (s from the first frame) of the mean of the most enhancing curves (N, T).

    The linear-quadratic upslope fit (bolus_arrival) places it between frames and, unlike a
    threshold on the baseline level, is not misled by curves that rise until the last frame.
    """
    curve = signal.enhancing_mean_curve(curves)
    arrival = float(fit_bolus_arrival(curve[None, :], t_rel)[0])
    if not np.isfinite(arrival):
        arrival = float(t_rel[max(signal.find_arrival_frame(curve) - 1, 0)])
    return arrival


def pre_contrast_count(signal_curves, t_rel):
    """Number of frames before the bolus arrival in signal curves (N, T); InputError if under 2."""
    count = signal.find_baseline_frames(signal_curves, t_rel).size
    # A persistently enhancing curve peaks at the last frame, which raises the threshold
    # method's baseline level: take the upslope fit's arrival when it is earlier.
    count_fit = int(np.count_nonzero(t_rel < arrival_time_s(signal_curves, t_rel)))
    return min(count, count_fit) if count_fit >= 2 else count


def even_sample(rows, limit=BASELINE_SAMPLE):
    if rows.size <= limit:
        return rows
    return rows[np.linspace(0, rows.size - 1, limit).astype(int)]


def first_finite_curves(curves, rows, wanted=4096):
    """Up to ``wanted`` finite curves, in voxel order (when the even sample held none); may be empty."""
    found = []
    for start in range(0, rows.size, CONCENTRATION_CHUNK):
        block = curves(rows[start:start + CONCENTRATION_CHUNK])
        found.append(block[np.all(np.isfinite(block), axis=1)])
        if sum(f.shape[0] for f in found) >= wanted:
            break
    return np.concatenate(found)[:wanted]


def baseline_frames(settings, gather, t_rel, in_mask, in_artery):
    """Pre-contrast frames: given, or those before the earliest bolus arrival (artery or tissue).

    ``gather(rows)``: the needed voxels' curves (n, T); ``in_mask`` / ``in_artery``: which of them
    are analysed tissue / arterial candidates (None when there are none)."""
    if settings.baseline_frames is not None:
        count = int(settings.baseline_frames)
        if count < 1 or count >= t_rel.size - 2:
            raise InputError(f"baseline frames: {settings.baseline_frames} is not a valid number of "
                             f"pre-contrast frames for a series of {t_rel.size}")
        return np.arange(count)
    count = pre_contrast_count(gather(even_sample(np.flatnonzero(in_mask))), t_rel)
    if in_artery is not None and in_artery.any():
        # The artery enhances before the tissue: its frames after arrival are not baseline.
        try:
            count = min(count, pre_contrast_count(gather(even_sample(np.flatnonzero(in_artery))), t_rel))
        except InputError as error:
            raise InputError(f"arterial voxels: {error}") from None
    return np.arange(count)
