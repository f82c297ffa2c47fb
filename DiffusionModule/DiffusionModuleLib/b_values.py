"""Checks of b-value arrays and of the samples that may enter a diffusion fit."""
import numpy as np

from TMEMonitorLib.errors import InputError

MAX_B = 10000.0     # s/mm2: above this a value is almost surely in other units


def check_b_values(signal, b_values, minimum_distinct=2):
    s = np.asarray(signal, dtype=float)
    b = np.asarray(b_values, dtype=float).ravel()
    if s.ndim < 1 or s.shape[-1] != b.size:
        raise InputError(f"b-values: {b.size} values for {s.shape[-1] if s.ndim else 0} diffusion frames")
    if not np.all(np.isfinite(b)) or np.any(b < 0) or np.any(b > MAX_B):
        raise InputError(f"b-values must lie in [0, {MAX_B:g}] s/mm2; got {b.tolist()}")
    if np.unique(np.round(b)).size < minimum_distinct:
        raise InputError(f"b-values: at least {minimum_distinct} distinct b-values are needed, got {np.unique(b).tolist()}")
    if s.size and not np.any(np.nan_to_num(s) != 0):
        raise InputError("signal: every sample is zero")
    return s, b


def sample_weights(signal, clip_value=None, floor=None, noise_sigma=None):
    """(signal to fit, 0/1 weights, excluded count per voxel).

    Samples at or above ``clip_value`` (saturated), at or below ``floor`` (noise floor), or
    not positive and finite are excluded. With ``noise_sigma`` the Rician bias is removed
    from the magnitude by power subtraction, S^2 = M^2 - 2 sigma^2 (Gudbjartsson & Patz,
    MRM 1995, doi:10.1002/mrm.1910340618); samples that fall to zero are excluded.
    """
    s = np.asarray(signal, dtype=float)
    if noise_sigma is not None:
        sigma = np.asarray(noise_sigma, dtype=float)
        sigma = sigma[..., None] if sigma.ndim else sigma
        power = s * s - 2.0 * sigma * sigma
        s = np.sqrt(np.where(power > 0, power, 0.0))
    valid = np.isfinite(s) & (s > 0)
    if clip_value is not None:
        valid &= np.asarray(signal) < clip_value
    if floor is not None:
        valid &= s > floor
    weights = valid.astype(float)
    return np.where(valid, s, 1.0), weights, np.count_nonzero(~valid, axis=-1)


def average_directions(signal, b_values, decimals=0):
    """Trace-weighted signal: geometric mean of the frames sharing a b-value (several directions).

    Returns (signal (..., n_unique), unique b-values).
    """
    s = np.asarray(signal, dtype=float)
    b = np.round(np.asarray(b_values, dtype=float), decimals)
    unique = np.unique(b)
    with np.errstate(divide="ignore"):
        logs = np.log(np.where(s > 0, s, np.nan))
    out = np.stack([np.exp(np.nanmean(logs[..., b == value], axis=-1)) for value in unique], axis=-1)
    return out, unique
