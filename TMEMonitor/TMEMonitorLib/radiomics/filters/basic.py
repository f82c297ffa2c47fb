"""Mean and Laplacian-of-Gaussian filters (IBSI 2, sections 2.1 and 2.2)."""
import numpy as np

from ...errors import InputError
from .convolution import separable


def mean_filter(array, spacing, support, mode, two_d):
    """Mean over a support of ``support`` voxels per axis (odd)."""
    support = int(support)
    if support < 1 or support % 2 == 0:
        raise InputError(f"radiomics mean filter: support must be an odd number of voxels, got {support}")
    k = np.full(support, 1.0 / support)
    kernels = [None if (two_d and axis == 0) else k for axis in range(3)]
    return separable(array, kernels, mode)


def gaussian_kernels_1d(sigma_mm, spacing, truncate):
    """1D Gaussian and its second derivative sampled at voxel centres (mm), normalised to
    the continuous integral (weights include the voxel width)."""
    out = []
    for s in spacing:
        sigma = sigma_mm / s                       # in voxels
        half = int(np.floor(truncate * sigma + 0.5))
        x = np.arange(-half, half + 1) * s         # mm
        g = np.exp(-x ** 2 / (2 * sigma_mm ** 2)) / (np.sqrt(2 * np.pi) * sigma_mm) * s
        g2 = g * (x ** 2 / sigma_mm ** 4 - 1.0 / sigma_mm ** 2)
        out.append((g, g2))
    return out


def log_filter(array, spacing, sigma_mm, mode, two_d, truncate=4.0):
    """Laplacian of Gaussian: sum over axes of the second Gaussian derivative along that axis
    times the Gaussian along the others (separable form of the IBSI 2 kernel), with the
    filter truncated at ``truncate`` sigma (IBSI 2: size 1 + 2 floor(4 sigma + 0.5))."""
    if not sigma_mm > 0:
        raise InputError(f"radiomics LoG filter: sigma_mm must be > 0, got {sigma_mm}")
    kern = gaussian_kernels_1d(sigma_mm, spacing, truncate)
    axes = (1, 2) if two_d else (0, 1, 2)
    total = np.zeros(np.shape(array), dtype=np.float64)
    for a in axes:
        kernels = [None] * 3
        for b in axes:
            kernels[b] = kern[b][1] if b == a else kern[b][0]
        total += separable(array, kernels, mode)
    return total
