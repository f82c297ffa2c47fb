"""Noise floor of magnitude multi-echo data: which echoes carry signal, and the noise level.

Magnitude data never decay below the Rician noise floor (mean sigma*sqrt(pi/2) for pure noise,
Gudbjartsson & Patz, MRM 1995, doi:10.1002/mrm.1910340618); fitting a mono-exponential through
floor-level echoes biases R2* low. Echoes are kept from the first one up to (not including) the
first echo whose signal is at or below ``snr_threshold * sigma`` ("truncation", as for R2*
mapping in iron overload: He et al., MRM 2008;60:1082-1089). The decay is monotone,
so every later echo is at the floor too: the echoes used are always a leading run, and their
count per voxel is reported.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

DEFAULT_SNR_THRESHOLD = 3.0      # pure Rician noise exceeds 3 sigma with probability exp(-4.5) = 1 %
_MIN_BACKGROUND_SAMPLES = 100


def used_echoes(signal, sigma=None, snr_threshold=DEFAULT_SNR_THRESHOLD, extra=None):
    """Boolean (N, E): the leading run of echoes above the floor (and finite, positive).

    ``sigma``: noise SD (scalar or (N,)) or None (only non-positive / non-finite samples end
    the run); ``extra``: optional (N, E) boolean of further exclusions (also ending the run).
    The fits use the same rule echo-major (loglinear.used_run); this is its voxel-major form.
    """
    from .loglinear import used_run
    s = np.asarray(signal, dtype=float)
    rows = s.reshape(-1, s.shape[-1])
    threshold = 0.0 if sigma is None else np.maximum(snr_threshold * np.asarray(sigma, dtype=float), 0.0)
    extra_t = None if extra is None else np.asarray(extra, bool).reshape(rows.shape).T
    used, _ = used_run(np.ascontiguousarray(rows.T), np.ravel(threshold) if np.ndim(threshold) else threshold, extra_t)
    return np.ascontiguousarray(used.T).reshape(s.shape)


def estimate_noise_sigma(signal, mask=None):
    """(sigma, source) from background voxels of magnitude data (..., E); (None, reason) if none.

    Background: voxels whose first-echo signal is below 5 % of its 99th percentile (air), and
    outside ``mask`` when one is given. "Outside the mask" alone is not background: with a tumour
    mask it is mostly body tissue, whose signal would be taken for noise and floor every tumour
    echo. In background the magnitude is Rayleigh distributed, so sigma = sqrt(mean(S^2) / 2)
    (Henkelman, Med Phys 1985, doi:10.1118/1.595711).
    """
    s = np.asarray(signal, dtype=float)
    if s.ndim < 2:
        return None, "noise not estimated: no voxel dimension to find background in"
    flat = s.reshape(-1, s.shape[-1])
    first = flat[:, 0]
    finite = first[np.isfinite(first)]
    if finite.size == 0:
        return None, "noise not estimated: no finite first-echo value"
    background = np.isfinite(first) & (first < 0.05 * np.percentile(finite, 99))
    how = "voxels below 5 % of the 99th-percentile first-echo signal"
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != s.shape[:-1]:
            raise InputError(f"mask: shape {mask.shape} does not match the signal's voxel shape {s.shape[:-1]}")
        background &= ~mask.ravel()
        how += " outside the mask"
    samples = flat[background]
    samples = samples[np.isfinite(samples)]
    if samples.size < _MIN_BACKGROUND_SAMPLES:
        return None, f"noise not estimated: {samples.size} background samples ({how}), fewer than {_MIN_BACKGROUND_SAMPLES}"
    sigma = float(np.sqrt(np.mean(samples * samples) / 2.0))
    if not sigma > 0:
        return None, f"noise not estimated: background ({how}) is exactly zero"
    return sigma, f"Rayleigh estimate from {samples.size} samples of {how}"
