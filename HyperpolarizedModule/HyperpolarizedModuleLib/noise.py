"""Noise of hyperpolarized metabolite images: sigma estimate, SNR map, Rician mean, phasing complex data.

Magnitude images carry Rician noise: the expected magnitude of a true signal nu under noise sigma
is sigma sqrt(pi/2) L_1/2(-nu^2 / (2 sigma^2)) (Gudbjartsson & Patz, MRM 1995, doi:10.1002/mrm.1910340618),
which a least-squares fit of magnitude data should compare with (the "rician" noise model). Complex
data are phased to real (one zero-order phase per voxel and metabolite): the noise stays Gaussian
and the imaginary part holds noise only, which gives sigma directly.
"""
import numpy as np
from scipy import special

from TMEMonitorLib.errors import InputError

RAYLEIGH_MEAN = np.sqrt(np.pi / 2.0)        # mean of |noise| / sigma where there is no signal


def phase_to_real(signal):
    """(real part, imaginary part) after removing each curve's zero-order phase (that of its sum)."""
    signal = np.asarray(signal)
    phase = np.angle(np.sum(signal, axis=-1, keepdims=True))
    rotated = signal * np.exp(-1j * phase)
    return rotated.real.astype(float), rotated.imag.astype(float)


def rician_mean(nu, sigma):
    """E|nu + noise| for Gaussian noise sigma on each channel (-> |nu| at high SNR)."""
    nu = np.asarray(nu, dtype=float)
    if sigma is None or np.all(np.asarray(sigma) == 0):
        return np.abs(nu)
    x = nu * nu / (2.0 * sigma * sigma)
    half = 0.5 * x
    return sigma * RAYLEIGH_MEAN * ((1.0 + x) * special.i0e(half) + x * special.i1e(half))


def estimate_sigma(pyruvate, background=None, magnitude=True, imaginary=None):
    """Noise SD (signal units) of a dynamic pyruvate series (..., T).

    Order: the imaginary part of phased complex data (``imaginary``); the voxels of
    ``background`` (bool over the leading dims); else the 20 % of voxels with the least
    pyruvate. Magnitude background is Rayleigh: sigma = mean / sqrt(pi/2); real data: SD.
    Returns (sigma, source text)."""
    if imaginary is not None:
        values = np.asarray(imaginary, dtype=float)
        values = values[np.isfinite(values)]
        if values.size < 2:
            raise InputError("noise estimate: too few samples")
        return float(np.std(values)), "imaginary part of the phased complex data"
    pyruvate = np.asarray(pyruvate, dtype=float)
    curves = pyruvate.reshape(-1, pyruvate.shape[-1])
    if background is not None and np.any(background):
        chosen = curves[np.asarray(background, bool).ravel()]
        source = f"{chosen.shape[0]} background voxels (outside the mask)"
    else:
        if curves.shape[0] < 5:
            raise InputError("noise estimate: fewer than 5 voxels and no background; give the noise sigma")
        total = np.nansum(np.abs(curves), axis=1)
        order = np.argsort(total)
        chosen = curves[order[:max(curves.shape[0] // 5, 1)]]
        source = f"the {chosen.shape[0]} voxels with the least pyruvate (20 %)"
    chosen = chosen[np.isfinite(chosen)]
    if chosen.size < 2:
        raise InputError("noise estimate: no finite background samples")
    sigma = float(np.mean(np.abs(chosen)) / RAYLEIGH_MEAN) if magnitude else float(np.std(chosen))
    return sigma, source + (" (Rayleigh mean)" if magnitude else " (SD)")


def snr_map(signal, sigma):
    """Peak signal over the last axis / sigma; inf where sigma is 0."""
    peak = np.max(np.asarray(signal, dtype=float), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sigma > 0, peak / (sigma if sigma > 0 else 1.0), np.inf)
