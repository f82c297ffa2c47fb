"""Noise standard deviation of a spectrum from a signal-free ppm region."""
import numpy as np

NOISE_REGION_PPM = (-2.0, 0.0)


def spectral_noise_sd(spectra, ppm, region=NOISE_REGION_PPM, min_points=16):
    """SD of the real (= imaginary) part of the noise, per voxel (V,), after removing a linear trend.

    spectra: (V, N) complex fftshift-ed spectra; ppm: (N,). If ``region`` holds fewer than
    ``min_points`` points, the outer 10 % of the spectral window on each side is used."""
    spectra = np.atleast_2d(spectra)
    lo, hi = sorted(region)
    sel = (ppm >= lo) & (ppm <= hi)
    if sel.sum() < min_points:
        n = ppm.size
        edge = max(min_points // 2, n // 10)
        sel = np.zeros(n, bool)
        sel[:edge] = True
        sel[-edge:] = True
    x = ppm[sel]
    design = np.stack([np.ones_like(x), x - x.mean()], axis=1)
    seg = spectra[:, sel]
    coef, *_ = np.linalg.lstsq(design, seg.T, rcond=None)
    resid = seg - (design @ coef).T
    dof = max(seg.shape[1] - 2, 1)
    return np.sqrt((np.sum(resid.real ** 2, axis=1) + np.sum(resid.imag ** 2, axis=1)) / (2 * dof))
