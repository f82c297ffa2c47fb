"""Semi-quantitative (model-free) metrics of DCE enhancement curves, vectorised over voxels.

Input is a concentration (mM) or a signal, shaped (..., T). The enhancement curve e(t) is
the concentration minus its baseline (zero unless ``baseline`` frames are given), or for
signal the relative enhancement (S - S0) / S0 with S0 the mean pre-arrival signal.
All times are in s and measured on the real (possibly uneven) frame grid; values between
frames are linearly interpolated, areas are trapezoids of that interpolant.

Curve type (Kuhl et al. Radiology 1999;211:101-110, doi:10.1148/radiology.211.1.r99ap38101):
the late change (e_late - e_early) / e_early > +10 % is type 1 (persistent), within
+-10 % type 2 (plateau), below -10 % type 3 (washout); 0 where the voxel does not enhance.
"""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st

from .bolus_arrival import fit_bolus_arrival
from .signal import _baseline_index, _checked_times, _over_voxels

CURVE_PERSISTENT, CURVE_PLATEAU, CURVE_WASHOUT = 1, 2, 3


def _interp_rows(t, y, xq):
    """Linear interpolation of each row of ``y`` (N, T) at its own time ``xq`` (N,)."""
    idx = np.clip(np.searchsorted(t, xq, side="right") - 1, 0, t.size - 2)
    rows = np.arange(y.shape[0])
    frac = (xq - t[idx]) / (t[idx + 1] - t[idx])
    val = y[rows, idx] + frac * (y[rows, idx + 1] - y[rows, idx])
    inside = (xq >= t[0]) & (xq <= t[-1])
    return np.where(inside, val, np.nan)


def _area_to(t, y, cumulative, xq):
    """Trapezoid area of each row from t[0] to ``xq`` (N,) (NaN outside the grid)."""
    idx = np.clip(np.searchsorted(t, xq, side="right") - 1, 0, t.size - 2)
    rows = np.arange(y.shape[0])
    yq = _interp_rows(t, y, xq)
    return cumulative[rows, idx] + (xq - t[idx]) * 0.5 * (y[rows, idx] + yq)


def _late_slope(t, e, start_index):
    """Least-squares slope of e over frames from ``start_index`` (N,) to the end."""
    w = (np.arange(t.size)[None, :] >= start_index[:, None]).astype(float)
    n = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tm = np.sum(w * t, axis=1) / n
        em = np.sum(w * e, axis=1) / n
        stt = np.sum(w * (t[None, :] - tm[:, None]) ** 2, axis=1)
        ste = np.sum(w * (t[None, :] - tm[:, None]) * (e - em[:, None]), axis=1)
        return np.where(n >= 2, ste / stt, np.nan)


CHUNK_VOXELS = 32768


def curve_metrics(ct_or_signal, t_s, arrival_s=None, input_type="concentration", baseline=None,
                  early_s=120.0, late_s=None, threshold=0.10, min_enhancement=0.0, mask=None):
    """Semi-quantitative metrics of curves (..., T) on frame times ``t_s`` (T,).

    ``arrival_s``: bolus arrival time (scalar or array over the leading dims); None fits
    it per voxel (linear-quadratic model). ``input_type``: "concentration" or "signal".
    ``baseline``: pre-contrast frames (indices, slice or mask) for the baseline level.
    ``early_s`` / ``late_s``: times after arrival of the early and late points used by SER
    and the curve type (late None = last frame). ``threshold``: the +-10 % curve-type rule.
    Returns a dict of arrays over the leading dims: "iAUC60", "iAUC90" (area of e over the
    first 60 / 90 s after arrival; mM s for concentration, s for relative signal),
    "TTP_s" (peak time minus arrival), "peak_enhancement", "wash_in_slope" (1/s: mean
    slope arrival -> peak), "wash_out_slope" (1/s: least-squares slope from peak to end),
    "BAT_s", "SER" (e_early / e_late = (S1 - S0) / (S2 - S0)), "late_change",
    "curve_type" (uint8) and "status" (uint8: NO_SIGNAL where non-finite or not enhancing).
    """
    if input_type not in ("concentration", "signal"):
        raise InputError(f"input_type: '{input_type}' must be 'concentration' or 'signal'")
    x = np.asarray(ct_or_signal)
    if x.ndim < 1 or x.shape[-1] < 3:
        raise InputError(f"ct_or_signal: expected (..., T) with T >= 3, got shape {x.shape}")
    t = _checked_times(t_s, x.shape[-1])
    lead = x.shape[:-1]
    flat = x.reshape(-1, t.size)
    n_vox = flat.shape[0]
    sel = np.ones(n_vox, bool) if mask is None else _over_voxels(mask, lead, "mask", bool)
    if n_vox > CHUNK_VOXELS:
        # Whole volumes in voxel chunks: the per-voxel work holds about ten (n, T) float64
        # arrays, so chunks keep it to a few tens of MB whatever the volume size.
        arrival = None if arrival_s is None else _over_voxels(arrival_s, lead, "arrival_s")
        parts = [curve_metrics(flat[start:start + CHUNK_VOXELS], t, None if arrival is None else
                               arrival[start:start + CHUNK_VOXELS], input_type, baseline, early_s, late_s, threshold,
                               min_enhancement, sel[start:start + CHUNK_VOXELS])
                 for start in range(0, n_vox, CHUNK_VOXELS)]
        return {key: np.concatenate([part[key] for part in parts]).reshape(lead) for key in parts[0]}
    finite = np.all(np.isfinite(flat), axis=1)
    todo = sel & finite
    y = np.where(todo[:, None], flat, 0.0).astype(float, copy=False)

    if arrival_s is None:
        bat = fit_bolus_arrival(y, t)
    else:
        bat = _over_voxels(arrival_s, lead, "arrival_s").copy()
        if np.any(np.isfinite(bat) & ((bat < t[0]) | (bat >= t[-1]))):
            raise InputError(f"arrival_s: must lie within the acquisition [{t[0]:g}, {t[-1]:g}) s")

    if baseline is not None:
        level = y[:, _baseline_index(baseline, t.size)].mean(axis=1)
    elif input_type == "signal":
        # mean signal before arrival; the first frame when arrival is at or before it
        before = (t[None, :] < bat[:, None]).astype(float)
        count = before.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            level = np.where(count > 0, np.sum(before * y, axis=1) / count, y[:, 0])
    else:
        level = np.zeros(n_vox)
    with np.errstate(invalid="ignore", divide="ignore"):
        if input_type == "signal":
            e = (y - level[:, None]) / level[:, None]
        else:
            e = y - level[:, None]

    rows = np.arange(n_vox)
    peak_idx = np.argmax(np.where(np.isfinite(e), e, -np.inf), axis=1)
    peak = e[rows, peak_idx]
    t_peak = t[peak_idx]
    bat_ok = np.isfinite(bat)
    bat_q = np.where(bat_ok, bat, t[0])
    e_bat = _interp_rows(t, e, bat_q)
    with np.errstate(invalid="ignore", divide="ignore"):
        ttp = np.where(bat_ok, t_peak - bat, np.nan)
        wash_in = np.where(ttp > 0, (peak - e_bat) / ttp, np.nan)
    wash_out = _late_slope(t, e, peak_idx)

    cumulative = np.concatenate(
        [np.zeros((n_vox, 1)), np.cumsum(0.5 * (e[:, 1:] + e[:, :-1]) * np.diff(t)[None, :], axis=1)], axis=1)
    area_bat = _area_to(t, e, cumulative, bat_q)
    iauc = {}
    for window in (60.0, 90.0):
        end = bat_q + window
        iauc[window] = np.where(bat_ok & (end <= t[-1]), _area_to(t, e, cumulative, np.minimum(end, t[-1])) - area_bat, np.nan)

    early = _interp_rows(t, e, np.where(bat_ok, bat_q + early_s, np.nan))
    late_t = np.full(n_vox, t[-1]) if late_s is None else bat_q + float(late_s)
    late = _interp_rows(t, e, np.where(bat_ok, late_t, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        ser = early / late
        late_change = (late - early) / early
    enhancing = np.isfinite(early) & (early > max(float(min_enhancement), 0.0)) & np.isfinite(late_change)
    curve_type = np.zeros(n_vox, dtype=np.uint8)
    curve_type[enhancing & (late_change > threshold)] = CURVE_PERSISTENT
    curve_type[enhancing & (np.abs(late_change) <= threshold)] = CURVE_PLATEAU
    curve_type[enhancing & (late_change < -threshold)] = CURVE_WASHOUT

    status = np.full(n_vox, st.MASKED, dtype=st.DTYPE)
    status[sel & ~finite] = st.NO_SIGNAL
    status[todo] = np.where(bat_ok[todo] & (peak[todo] > 0), st.OK, st.NO_SIGNAL)

    out = {"iAUC60": iauc[60.0], "iAUC90": iauc[90.0], "TTP_s": ttp, "peak_enhancement": peak,
           "wash_in_slope": wash_in, "wash_out_slope": wash_out, "BAT_s": bat, "SER": ser,
           "late_change": late_change, "curve_type": curve_type, "status": status}
    unusable = ~todo
    for key, arr in out.items():
        if key not in ("curve_type", "status"):
            arr = np.asarray(arr, dtype=float)
            arr[unusable] = np.nan
            out[key] = arr
    curve_type[unusable] = 0
    return {k: np.asarray(v).reshape(lead) for k, v in out.items()}
