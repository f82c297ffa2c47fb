"""Gabor filter (IBSI 2, section 2.4): modulus of the response to the complex kernel
h(x, y) = 1/(2 pi sigma^2) exp(-(x'^2 + gamma^2 y'^2) / (2 sigma^2)) exp(i 2 pi x' / lambda),
x' = x cos(theta) + y sin(theta), y' = -x sin(theta) + y cos(theta), sigma and lambda in mm.
Orientation pooling averages over theta = 0, dtheta, ...; 3D rotation invariance averages
the 2D filter applied in the three orthogonal planes."""
import numpy as np

from ...errors import InputError
from .convolution import dense


def gabor_kernel(sigma_mm, wavelength_mm, gamma, theta, spacing_yx, truncate=4.0):
    extent = truncate * sigma_mm * max(1.0, 1.0 / gamma)
    hy = int(np.floor(extent / spacing_yx[0] + 0.5))
    hx = int(np.floor(extent / spacing_yx[1] + 0.5))
    y, x = np.meshgrid(np.arange(-hy, hy + 1) * spacing_yx[0], np.arange(-hx, hx + 1) * spacing_yx[1],
                       indexing="ij")
    xr = x * np.cos(theta) + y * np.sin(theta)
    yr = -x * np.sin(theta) + y * np.cos(theta)
    envelope = np.exp(-(xr ** 2 + gamma ** 2 * yr ** 2) / (2 * sigma_mm ** 2)) / (2 * np.pi * sigma_mm ** 2)
    # weights include the pixel area so the sum approximates the continuous integral
    return envelope * np.exp(1j * 2 * np.pi * xr / wavelength_mm) * spacing_yx[0] * spacing_yx[1]


def _gabor_planes(array, spacing, kernel_args, thetas, mode):
    """Average over thetas of |h_theta * slice| for every (y, x) slice of ``array``."""
    acc = np.zeros(array.shape, dtype=np.float64)
    for theta in thetas:
        k = gabor_kernel(*kernel_args, theta, spacing[1:])
        acc += np.abs(dense(array, k[None, :, :], mode))
    return acc / len(thetas)


def gabor_filter(array, spacing, sigma_mm, wavelength_mm, mode, gamma=1.0, theta_deg=0.0,
                 theta_step_deg=None, orthogonal_planes=False):
    if not (sigma_mm > 0 and wavelength_mm > 0 and gamma > 0):
        raise InputError("radiomics Gabor filter: sigma_mm, wavelength_mm and gamma must be > 0")
    if theta_step_deg:
        thetas = np.deg2rad(np.arange(0.0, 360.0, float(theta_step_deg)))
    else:
        thetas = [np.deg2rad(float(theta_deg))]
    args = (sigma_mm, wavelength_mm, gamma)
    out = _gabor_planes(array, spacing, args, thetas, mode)
    if orthogonal_planes:
        # (z, y, x) -> planes (y, z) at each x and (x, z) at each y
        a1 = np.transpose(array, (2, 0, 1))                 # slices along x: plane (z, y)
        s1 = (spacing[2], spacing[0], spacing[1])
        out += np.transpose(_gabor_planes(a1, s1, args, thetas, mode), (1, 2, 0))
        a2 = np.transpose(array, (1, 0, 2))                 # slices along y: plane (z, x)
        s2 = (spacing[1], spacing[0], spacing[2])
        out += np.transpose(_gabor_planes(a2, s2, args, thetas, mode), (1, 0, 2))
        out /= 3.0
    return out
