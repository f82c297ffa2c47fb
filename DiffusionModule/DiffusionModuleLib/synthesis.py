"""Forward diffusion signals for digital reference objects and computed high-b images."""
import numpy as np


def ivim_signal(s0, d, f, dstar, b_values):
    """S0 [f exp(-b D*) + (1 - f) exp(-b D)] (Le Bihan et al., Radiology 1988, doi:10.1148/radiology.168.2.3393671)."""
    b = np.asarray(b_values, dtype=float)
    s0, d, f, dstar = (np.asarray(v, dtype=float)[..., None] for v in (s0, d, f, dstar))
    return s0 * (f * np.exp(-b * dstar) + (1 - f) * np.exp(-b * d))


def kurtosis_signal(s0, d, k, b_values):
    """S0 exp(-b D + b^2 D^2 K / 6) (Jensen et al., MRM 2005, doi:10.1002/mrm.20508)."""
    b = np.asarray(b_values, dtype=float)
    s0, d, k = (np.asarray(v, dtype=float)[..., None] for v in (s0, d, k))
    return s0 * np.exp(-b * d + (b * d) ** 2 * k / 6.0)


def add_rician_noise(signal, sigma, rng):
    """Magnitude of the signal plus complex Gaussian noise of standard deviation ``sigma``."""
    signal = np.asarray(signal, dtype=float)
    return np.sqrt((signal + rng.normal(0, sigma, signal.shape)) ** 2 + rng.normal(0, sigma, signal.shape) ** 2)
