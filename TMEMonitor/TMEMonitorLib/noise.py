"""Noise models of synthetic acquisitions, one home each.

Magnitude MR images carry Rician noise: the magnitude of the true signal plus complex
Gaussian noise of standard deviation sigma in each channel (Gudbjartsson & Patz, MRM 1995,
doi:10.1002/mrm.1910340618).
"""
import numpy as np


def add_rician_noise(signal, sigma, rng):
    """|signal + n_re + i n_im| with n_re, n_im ~ N(0, sigma^2), drawn in that order from ``rng``.

    ``sigma`` <= 0 returns the signal unchanged (as float). The real part is drawn first, so a
    seeded generator gives the same noise as the synthetic series made before this home existed.
    """
    signal = np.asarray(signal, dtype=float)
    if np.all(np.asarray(sigma) <= 0):
        return signal
    real = signal + rng.normal(0.0, sigma, signal.shape)
    imaginary = rng.normal(0.0, sigma, signal.shape)
    return np.sqrt(real ** 2 + imaginary ** 2)
