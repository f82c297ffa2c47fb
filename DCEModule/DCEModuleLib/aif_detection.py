"""Automatic arterial input function detection from a DCE series, vectorised over voxels.

Arterial voxels enhance early, strongly, with a narrow first pass and a clear washout.
Steps: (1) keep the most enhancing voxels as candidates; (2) reject voxels with a wrong
shape: no washout after the first pass (tissue, or inflow-affected vessels), an elevated
pre-contrast level (inflow), an extreme peak with such a shape (reported as inflow), and
partial-volume voxels whose peak is well below that of the best candidates or whose
first pass is much broader; (3) score the rest on peak height, early arrival and narrow
first pass, and average the best ``n_voxels``.
The criteria follow common practice in automatic AIF selection (early arrival, high and
narrow first pass; e.g. Mouridsen et al., MRM 2006;55:524-531), with explicit rejection
rules so that the reason for every rejected candidate can be shown to the user.
"""
import warnings

import numpy as np

from TMEMonitorLib.errors import InputError

from .agents import DEFAULT_HEMATOCRIT
from .hematocrit import blood_to_plasma
from .signal import _checked_times, _over_voxels, find_baseline_frames

REJECT_REASONS = ("baseline_elevated", "no_washout", "inflow", "partial_volume", "broad_first_pass")


def _half_max_width(t, e, peak_idx, peak):
    """Full width at half maximum around each row's peak (s), linearly interpolated."""
    n, n_t = e.shape
    frames = np.arange(n_t)[None, :]
    below = e < 0.5 * peak[:, None]
    left = np.max(np.where(below & (frames < peak_idx[:, None]), frames, -1), axis=1)
    right = np.min(np.where(below & (frames > peak_idx[:, None]), frames, n_t), axis=1)
    rows = np.arange(n)
    half = 0.5 * peak

    def crossing(i0, i1):
        y0, y1 = e[rows, i0], e[rows, i1]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(y1 != y0, (half - y0) / (y1 - y0), 0.0)
        return t[i0] + np.clip(frac, 0, 1) * (t[i1] - t[i0])

    t_left = np.where(left >= 0, crossing(np.maximum(left, 0), np.maximum(left, 0) + 1), t[0])
    t_right = np.where(right < n_t, crossing(np.minimum(right, n_t - 1) - 1, np.minimum(right, n_t - 1)), t[-1])
    return t_right - t_left, right >= n_t


def _rank01(values, higher_is_better):
    """Ranks scaled to [0, 1] (1 = best)."""
    if values.size <= 1:
        return np.ones_like(values, dtype=float)
    order = np.argsort(np.argsort(values if higher_is_better else -values, kind="stable"), kind="stable")
    return order / (values.size - 1)


def detect_aif(concentration_or_signal, t_s, mask=None, n_voxels=20, input_type="concentration",
               hematocrit=DEFAULT_HEMATOCRIT, candidate_fraction=0.05, baseline_frames=None,
               washout_max=0.5, baseline_max=0.2, inflow_ratio=2.0, partial_volume_ratio=0.5,
               broad_ratio=2.0):
    """Find arterial voxels in ``concentration_or_signal`` (..., T) and average them.

    ``input_type``: "concentration" (mM, whole blood) or "signal". ``mask``: boolean over
    the leading dims limiting the search. ``n_voxels``: how many voxels to average.
    Thresholds: ``washout_max`` (mean of the last quarter of the series over the peak),
    ``baseline_max`` (pre-contrast level over the peak, concentration input; for signal a
    pre-contrast signal above 3x the median of the candidates), ``inflow_ratio`` (peak
    over the median candidate peak above which a wrongly shaped voxel is called inflow),
    ``partial_volume_ratio`` (minimum peak relative to the best candidates),
    ``broad_ratio`` (maximum first-pass width relative to the best candidates).
    Returns a dict: "aif_blood" and "aif_plasma" (T,) in mM (None for signal input),
    "aif_signal" (T,) (signal input only), "indices" (tuple of index arrays into the
    leading dims, for display), "flat_indices", "baseline_frames", and "candidates": a
    dict of per-candidate arrays ("flat_index", "score", "peak", "arrival_s", "fwhm_s",
    "washout_ratio", "auc_to_peak_s", "baseline_ratio", "selected", "rejected" reason).
    """
    if input_type not in ("concentration", "signal"):
        raise InputError(f"input_type: '{input_type}' must be 'concentration' or 'signal'")
    x = np.asarray(concentration_or_signal, dtype=float)
    if x.ndim < 2 or x.shape[-1] < 4:
        raise InputError(f"concentration_or_signal: expected (..., T) with voxels and T >= 4, got {x.shape}")
    if int(n_voxels) < 1:
        raise InputError(f"n_voxels: must be at least 1, got {n_voxels!r}")
    t = _checked_times(t_s, x.shape[-1])
    lead = x.shape[:-1]
    flat = x.reshape(-1, t.size)
    sel = np.ones(flat.shape[0], bool) if mask is None else _over_voxels(mask, lead, "mask", bool)
    usable = np.flatnonzero(sel & np.all(np.isfinite(flat), axis=1))
    if usable.size < 2:
        raise InputError("concentration_or_signal: fewer than two usable voxels inside the mask")
    y = flat[usable]
    base_idx = (find_baseline_frames(y, t) if baseline_frames is None
                else np.arange(t.size)[baseline_frames])
    level = y[:, base_idx].mean(axis=1)
    if input_type == "signal":
        with np.errstate(invalid="ignore", divide="ignore"):
            e = (y - level[:, None]) / level[:, None]
        e[~(level > 0)] = 0.0
    else:
        e = y - level[:, None]

    peak_idx = np.argmax(e, axis=1)
    peak = e[np.arange(e.shape[0]), peak_idx]
    # candidate pool: the most enhancing voxels
    n_pool = int(min(usable.size, max(np.ceil(candidate_fraction * usable.size), 5 * n_voxels)))
    pool = np.argsort(-peak, kind="stable")[:n_pool]
    pool = pool[peak[pool] > 0]
    if pool.size == 0:
        raise InputError("concentration_or_signal: no enhancing voxel, so no AIF can be detected")
    ep, pk, pki = e[pool], peak[pool], peak_idx[pool]

    frames = np.arange(t.size)[None, :]
    arrival_idx = np.argmax(ep >= 0.2 * pk[:, None], axis=1)
    arrival = t[arrival_idx]
    fwhm, no_return = _half_max_width(t, ep, pki, pk)
    late = frames >= int(np.floor(0.75 * t.size))
    washout = np.sum(ep * late, axis=1) / late.sum() / pk
    area = np.sum(0.5 * (ep[:, 1:] + ep[:, :-1]) * np.diff(t)[None, :], axis=1)
    auc_to_peak = area / pk
    if input_type == "signal":
        base_ratio = level[pool] / np.median(level[pool])
        elevated = base_ratio > 3.0
    else:
        raw_peak = y[pool][np.arange(pool.size), pki]
        with np.errstate(invalid="ignore", divide="ignore"):
            base_ratio = level[pool] / raw_peak
        elevated = base_ratio > baseline_max

    reason = np.full(pool.size, "", dtype=object)
    wrong_shape = elevated | (washout > washout_max) | no_return
    extreme = pk > inflow_ratio * np.median(pk)
    reason[elevated] = "baseline_elevated"
    reason[(reason == "") & ((washout > washout_max) | no_return)] = "no_washout"
    reason[wrong_shape & extreme] = "inflow"
    ok = reason == ""
    if np.any(ok):
        top = np.flatnonzero(ok)[np.argsort(-pk[ok], kind="stable")[: int(n_voxels)]]
        ref_peak, ref_width = np.median(pk[top]), np.median(fwhm[top])
        reason[ok & (pk < partial_volume_ratio * ref_peak)] = "partial_volume"
        reason[(reason == "") & (fwhm > broad_ratio * ref_width)] = "broad_first_pass"
    ok = reason == ""
    if not np.any(ok):
        raise InputError("concentration_or_signal: no voxel has an arterial shape "
                         "(early, narrow first pass with washout); draw an AIF ROI instead")

    score = np.full(pool.size, np.nan)
    score[ok] = (_rank01(pk[ok], True) + _rank01(arrival[ok], False) + _rank01(fwhm[ok], False)) / 3.0
    order = np.flatnonzero(ok)[np.argsort(-score[ok], kind="stable")]
    chosen = order[: int(n_voxels)]
    if chosen.size < n_voxels:
        warnings.warn(f"detect_aif: only {chosen.size} voxels passed the arterial criteria "
                      f"(asked for {n_voxels})", RuntimeWarning, stacklevel=2)
    selected = np.zeros(pool.size, bool)
    selected[chosen] = True
    flat_chosen = usable[pool[chosen]]
    mean_curve = y[pool[chosen]].mean(axis=0)

    result = {
        "t_s": t,
        "flat_indices": flat_chosen,
        "indices": np.unravel_index(flat_chosen, lead),
        "baseline_frames": base_idx,
        "candidates": {"flat_index": usable[pool], "score": score, "peak": pk, "arrival_s": arrival,
                       "fwhm_s": fwhm, "washout_ratio": washout, "auc_to_peak_s": auc_to_peak,
                       "baseline_ratio": base_ratio, "selected": selected,
                       "rejected": reason.astype(str)},
    }
    if input_type == "concentration":
        result.update(aif_blood=mean_curve, aif_plasma=blood_to_plasma(mean_curve, hematocrit), aif_signal=None)
    else:
        result.update(aif_blood=None, aif_plasma=None, aif_signal=mean_curve)
    return result
