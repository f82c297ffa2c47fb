"""Noise standard deviation of a spectrum from a signal-free ppm region."""
import numpy as np

NOISE_REGION_PPM = (-2.0, 0.0)


def spectral_noise_sd(spectra, ppm, region=NOISE_REGION_PPM, min_points=16):
    """SD of the real (= imaginary) part of the noise, per voxel (V,), from second differences.

    spectra: (V, N) complex fftshift-ed spectra; ppm: (N,). The second difference of white noise
    has variance 6 sigma^2, while a smooth baseline (the tail of residual water or lipids, the
    roll-off of the receiver filter at the edge of the window) nearly vanishes in it: a linear
    detrend over -2..0 ppm overestimated the noise 11-fold on a 1200 Hz 3 T scan whose window
    ends at -0.2 ppm. If ``region`` holds fewer than ``min_points`` points, the outer 10 % of the
    spectral window on each side is used."""
    spectra = np.atleast_2d(spectra)
    lo, hi = sorted(region)
    sel = (ppm >= lo) & (ppm <= hi)
    if sel.sum() < min_points:
        n = ppm.size
        edge = max(min_points // 2, n // 10)
        sel = np.zeros(n, bool)
        sel[:edge] = True
        sel[-edge:] = True
    index = np.flatnonzero(sel)
    seg = spectra[:, index]
    second = seg[:, 2:] - 2.0 * seg[:, 1:-1] + seg[:, :-2]
    second = second[:, index[2:] - index[:-2] == 2]                # not across the gap between two edges
    second = second - second.mean(axis=1, keepdims=True)          # a quadratic baseline leaves a constant
    dof = max(second.shape[1] - 1, 1)
    return np.sqrt((np.sum(second.real ** 2, axis=1) + np.sum(second.imag ** 2, axis=1)) / (2 * 6 * dof))
