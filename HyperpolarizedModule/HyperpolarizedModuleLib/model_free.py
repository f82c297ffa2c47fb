"""Model-free metrics of hyperpolarized dynamics: AUC ratio, time to peak, mean time.

The AUC ratio sum(lactate) / sum(pyruvate) is proportional to kPL for a fixed flip schedule and
relaxation (Hill et al., PLoS One 2013, doi:10.1371/journal.pone.0071996); time to peak and mean
time (first moment) describe the product's delivery and turnover (Daniels et al., NMR Biomed 2016,
doi:10.1002/nbm.3468). All work along the last axis and are NaN where undefined (no division by zero).
"""
import numpy as np

from TMEMonitorLib.errors import InputError


def _frame_times(times_s, n_frames, name="frame times"):
    times = np.asarray(times_s, dtype=float)
    if times.ndim == 0:
        return np.arange(n_frames) * float(times)
    if times.shape != (n_frames,):
        raise InputError(f"{name}: {times.size} values for {n_frames} frames")
    return times


def auc_ratio(pyruvate, lactate):
    """sum(lactate) / sum(pyruvate) over the last axis; NaN where the pyruvate sum is 0 or not finite."""
    pyruvate = np.asarray(pyruvate)
    lactate = np.asarray(lactate)
    if pyruvate.shape != lactate.shape:
        raise InputError(f"auc_ratio: pyruvate {pyruvate.shape} and lactate {lactate.shape} differ in shape")
    if np.iscomplexobj(pyruvate) or np.iscomplexobj(lactate):
        pyruvate, lactate = np.abs(pyruvate), np.abs(lactate)
    sum_p = np.sum(pyruvate, axis=-1, dtype=float)
    sum_l = np.sum(lactate, axis=-1, dtype=float)
    ok = np.isfinite(sum_p) & (sum_p != 0)
    return np.where(ok, sum_l / np.where(ok, sum_p, 1.0), np.nan)


def time_to_peak(signal, times_s):
    """Time (s) of the largest sample along the last axis; ``times_s`` a frame spacing or one time per frame."""
    signal = np.asarray(signal, dtype=float)
    times = _frame_times(times_s, signal.shape[-1])
    finite = np.all(np.isfinite(signal), axis=-1)
    index = np.argmax(np.where(np.isfinite(signal), signal, -np.inf), axis=-1)
    return np.where(finite, times[index], np.nan)


def mean_time(signal, times_s):
    """First moment sum(t S) / sum(S) (s) along the last axis; NaN where sum(S) <= 0."""
    signal = np.asarray(signal, dtype=float)
    times = _frame_times(times_s, signal.shape[-1])
    total = np.sum(signal, axis=-1)
    ok = np.isfinite(total) & (total > 0)
    return np.where(ok, np.sum(signal * times, axis=-1) / np.where(ok, total, 1.0), np.nan)
