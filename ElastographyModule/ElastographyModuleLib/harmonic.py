"""First temporal harmonic of displacement sampled at wave phase offsets.

u(theta_n) = a0 + Re(U exp(i theta_n)) fitted by linear least squares; for N evenly spaced
offsets over one period this is exactly the DFT bin 1 (U = 2/N sum u_n exp(-i theta_n)), the
temporal FFT of MRE processing. The residual (higher harmonics and noise) gives the noise of U
when N > 3.
"""
import numpy as np

from TMEMonitorLib.errors import InputError


def first_harmonic(samples, offsets_rad):
    """(U complex (...), noise SD of Re U (scalar, median over voxels; NaN if N == 3)).

    ``samples``: (offsets, ...) displacement; ``offsets_rad``: one wave phase offset per sample."""
    offsets = np.asarray(offsets_rad, float).ravel()
    samples = np.asarray(samples, float)
    if offsets.size != samples.shape[0]:
        raise InputError(f"{samples.shape[0]} phase images but {offsets.size} phase offsets")
    distinct = np.unique(np.round(np.mod(offsets, 2 * np.pi), 6))
    if distinct.size < 3:
        raise InputError(f"{distinct.size} distinct wave phase offset(s): the first harmonic needs at least 3 "
                         "(--offsets)")
    design = np.stack([np.ones_like(offsets), np.cos(offsets), -np.sin(offsets)], axis=1)
    pseudo = np.linalg.pinv(design)
    flat = samples.reshape(offsets.size, -1)
    coefficients = pseudo @ flat
    wave = (coefficients[1] + 1j * coefficients[2]).reshape(samples.shape[1:])
    if offsets.size > 3:
        residual = flat - design @ coefficients
        sigma_t = np.sqrt(np.sum(residual ** 2, axis=0) / (offsets.size - 3))
        gain = np.sqrt(np.sum(pseudo[1] ** 2))        # noise SD of Re U per unit sample noise
        sigma = float(np.median(sigma_t) * gain)
    else:
        sigma = np.nan
    return wave, sigma
