"""Checks of b-value arrays and of the samples that may enter a diffusion fit."""
import numpy as np

from TMEMonitorLib.errors import InputError

MAX_B = 10000.0     # s/mm2: above this a value is almost surely in other units


def read_b_value_file(path, option="--bvals"):
    """b-values (s/mm2) from an FSL .bval-style text file: numbers separated by spaces, commas or
    semicolons. Errors name the file (and the option): unreadable, binary, not numbers, empty."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise InputError(f"{option} file '{path}': cannot be read ({error.strerror or error})") from None
    if b"\x00" in raw:
        raise InputError(f"{option} file '{path}': is a binary file, not a text list of b-values")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{option} file '{path}': is not text (bytes that are not UTF-8)") from None
    tokens = [t for t in text.replace(",", " ").replace(";", " ").split() if t]
    try:
        values = np.array([float(t) for t in tokens], dtype=float)
    except ValueError:
        bad = next(t for t in tokens if not _is_float(t))
        raise InputError(f"{option} file '{path}': '{bad[:20]}' is not a number (b-values in s/mm2)") from None
    if values.size == 0:
        raise InputError(f"{option} file '{path}': holds no b-values")
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values > MAX_B):
        raise InputError(f"{option} file '{path}': b-values must lie in [0, {MAX_B:g}] s/mm2; got {values.tolist()}")
    return values


def _is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def check_b_values(signal, b_values, minimum_distinct=2):
    """(signal as a float array, b as a 1-D float64 array) after checking counts, range and content.

    float32 and 8/16-bit integer images stay (become) float32: the closed-form fits then run in
    single precision, which holds every digit such data have and is several times faster.
    """
    s = np.asarray(signal)
    if s.dtype.kind != "f" or s.dtype.itemsize < 4:
        # Scanner integers of up to 16 bits are exact in float32; wider ones need float64.
        s = s.astype(np.float32 if s.dtype.itemsize <= 2 else np.float64)
    b = np.asarray(b_values, dtype=float).ravel()
    if s.ndim < 1 or s.shape[-1] != b.size:
        raise InputError(f"b-values: {b.size} values for {s.shape[-1] if s.ndim else 0} diffusion frames "
                         "(the last axis of the signal)")
    if not np.all(np.isfinite(b)) or np.any(b < 0) or np.any(b > MAX_B):
        raise InputError(f"b-values must lie in [0, {MAX_B:g}] s/mm2; got {b.tolist()}")
    if np.unique(np.round(b)).size < minimum_distinct:
        raise InputError(f"b-values: at least {minimum_distinct} distinct b-values are needed, "
                         f"got {np.unique(b).tolist()}")
    if s.size == 0 or not np.any(s):
        raise InputError("signal: empty, or every sample is zero")
    return s, b


def sample_weights(signal, clip_value=None, floor=None, noise_sigma=None):
    """(signal to fit, 0/1 weights, excluded count per voxel, every sample used?).

    ``signal`` is (n_voxels, n_b). Samples at or above ``clip_value`` (saturated), at or below
    ``floor`` (noise floor), or not positive and finite are excluded. With ``noise_sigma``
    (n_voxels,) the Rician bias is removed from the magnitude by power subtraction,
    S^2 = M^2 - 2 sigma^2 (Gudbjartsson & Patz, MRM 1995, doi:10.1002/mrm.1910340618);
    samples that fall to zero are excluded.
    """
    s = signal
    if noise_sigma is not None:
        power = s * s - 2.0 * (np.asarray(noise_sigma, dtype=float) ** 2)[:, None]
        s = np.sqrt(np.maximum(power, 0.0))
    valid = (s > 0) & (s < np.inf)     # False for NaN and inf too
    if clip_value is not None:
        valid &= signal < clip_value
    if floor is not None:
        valid &= s > floor
    if valid.all():
        # Every sample used: a read-only view of ones instead of a whole-volume array.
        return s, np.broadcast_to(1.0, s.shape), np.zeros(s.shape[0], int), True
    excluded = s.shape[1] - np.count_nonzero(valid, axis=1)
    return np.where(valid, s, 1.0), valid.astype(float), excluded, False


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
