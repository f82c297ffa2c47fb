"""Checks of the DCE input arrays (series, frame times, masks, B1 map, concentration values),
each raising a clear error that names the input before anything is computed or written."""
import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

MIN_FRAMES = 8
# A concentration series peaking above this (mM) in most voxels is a signal series or in µM.
MAX_CONCENTRATION_MM = 100.0


def check_series(signal_4d, t_s, what="DCE series"):
    if signal_4d.ndim != 4:
        raise InputError(f"{what}: expected (frames, slices, rows, cols), got shape {signal_4d.shape}")
    if signal_4d.shape[0] < MIN_FRAMES:
        raise InputError(f"{what}: {signal_4d.shape[0]} frames are too few (at least {MIN_FRAMES} needed)")
    t = np.asarray(t_s, dtype=float).ravel()
    if t.shape != (signal_4d.shape[0],):
        raise InputError(f"{what}: {signal_4d.shape[0]} frames but {t.size} frame times")
    if not np.all(np.isfinite(t)):
        raise MetadataError(f"{what}: frame times hold NaN or infinite values")
    if np.any(np.diff(t) <= 0):
        raise MetadataError(f"{what}: frame times are not strictly increasing")
    if t[-1] - t[0] > 6 * 3600:
        raise MetadataError(f"{what}: frames span {t[-1] - t[0]:g} s; are the frame times in seconds?")
    empty = [i for i in range(signal_4d.shape[0]) if not np.isfinite(signal_4d[i]).any()]
    if empty:
        raise InputError(f"{what}: frame(s) {empty} hold no finite value")
    return t


def volume_mask(array, volume_shape, what):
    array = np.asarray(array)
    if array.shape != volume_shape:
        raise InputError(f"{what}: shape {array.shape} does not match the DCE volume {volume_shape}")
    mask = array.astype(bool)
    if not mask.any():
        raise InputError(f"{what}: no voxel selected")
    return mask


def check_concentration_values(conc_4d, foreground):
    """Refuse a 'concentration' series whose values cannot be mM (a signal series, or µM)."""
    peaks = np.max(np.abs(conc_4d[:, foreground]), axis=0)
    peak = float(np.percentile(peaks, 99)) if peaks.size else 0.0
    if peak > MAX_CONCENTRATION_MM:
        raise InputError(f"concentration series: values up to {peak:g} in most voxels; expected mM (under "
                         f"{MAX_CONCENTRATION_MM:g}). Is it a signal series (input kind 'signal') or in µM?")


def b1_values(b1_map, volume_shape):
    b1 = np.asarray(b1_map, dtype=float)
    if b1.shape != volume_shape:
        raise InputError(f"B1 map: shape {b1.shape} does not match the DCE/VFA volume {volume_shape}")
    usable = np.isfinite(b1) & (b1 > 0)
    if not usable.any():
        raise InputError("B1 map: no voxel holds a positive flip-angle scale")
    median = float(np.median(b1[usable]))
    if not 0.2 < median < 3.0:
        raise InputError(f"B1 map: median {median:g}; expected the relative flip-angle scale (actual / nominal, "
                         f"about 1). Is it in percent? Divide it by 100")
    return np.where(usable, b1, np.nan)
