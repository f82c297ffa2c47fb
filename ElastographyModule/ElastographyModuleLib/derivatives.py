"""Noise-robust spatial derivatives of wave fields on an anisotropic grid (axes: slice, row, col).

Every operator here is linear and shift-invariant, so a Helmholtz solution stays a Helmholtz
solution after it: smoothing scales a wave but does not change the ratio U / Laplacian(U) that
the inversions read (the reason MDEV pipelines low-pass before differentiating;
Papazoglou et al., Phys Med Biol 2012, doi:10.1088/0031-9155/57/8/2329).
"""
import numpy as np
from scipy import ndimage
from scipy.signal import savgol_coeffs

LAPLACIAN_METHODS = ("fd4", "fd2", "savgol", "fft")

# 4th-order central second difference (Fornberg, Math Comp 1988, doi:10.1090/S0025-5718-1988-0935077-0):
# truncation error (k h)^4 / 90 against (k h)^2 / 12 for the 3-point stencil.
_FD4 = np.array([-1.0, 16.0, -30.0, 16.0, -1.0]) / 12.0
_FD2 = np.array([1.0, -2.0, 1.0])


def voxel_sizes(voxel_size_m, ndim=3):
    """(slice, row, col) voxel sizes in m from a scalar or a 3-sequence; ValueError if not positive."""
    sizes = np.broadcast_to(np.asarray(voxel_size_m, dtype=float).ravel(), (ndim,)) \
        if np.size(voxel_size_m) in (1, ndim) else None
    if sizes is None or not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise ValueError(f"voxel_size_m {voxel_size_m!r}: expected one positive size or one per axis (m)")
    return tuple(float(s) for s in sizes)


def active_axes(shape, axes):
    """Spatial axes used by the derivatives: ``axes`` ('3d' or '2d' = in-plane rows/cols) limited to
    axes long enough for the stencil."""
    wanted = (0, 1, 2) if axes == "3d" else (1, 2)
    return tuple(a for a in wanted if shape[a] >= 5)


def smooth(field, sigma_vox, axes=(0, 1, 2)):
    """Gaussian low-pass of a (..., slices, rows, cols) real or complex field along ``axes``."""
    if not sigma_vox:
        return field
    sigma = np.zeros(field.ndim)
    offset = field.ndim - 3
    for a in axes:
        sigma[offset + a] = sigma_vox if np.isscalar(sigma_vox) else sigma_vox[a]
    if np.iscomplexobj(field):
        return (ndimage.gaussian_filter(field.real, sigma, mode="reflect")
                + 1j * ndimage.gaussian_filter(field.imag, sigma, mode="reflect"))
    return ndimage.gaussian_filter(field, sigma, mode="reflect")


def _kernel(method, savgol_window, savgol_order):
    if method == "fd4":
        return _FD4
    if method == "fd2":
        return _FD2
    if method == "savgol":
        # Savitzky & Golay, Anal Chem 1964, doi:10.1021/ac60214a047: 2nd derivative of the local
        # least-squares polynomial (smooths and differentiates in one filter).
        return savgol_coeffs(savgol_window, savgol_order, deriv=2, use="conv")
    raise ValueError(f"laplacian method '{method}' is not one of {', '.join(LAPLACIAN_METHODS)}")


def _convolve_axis(field, kernel, axis):
    if np.iscomplexobj(field):
        return (ndimage.convolve1d(field.real, kernel, axis=axis, mode="reflect")
                + 1j * ndimage.convolve1d(field.imag, kernel, axis=axis, mode="reflect"))
    return ndimage.convolve1d(field, kernel, axis=axis, mode="reflect")


def laplacian(field, voxel_size_m, axes=(0, 1, 2), method="fd4", savgol_window=7, savgol_order=4):
    """Laplacian (1/m^2 x field units) of a (..., slices, rows, cols) field along the spatial ``axes``."""
    sizes = voxel_sizes(voxel_size_m)
    offset = field.ndim - 3
    if method == "fft":
        return _fft_laplacian(field, sizes, axes, offset)
    kernel = _kernel(method, savgol_window, savgol_order)
    out = np.zeros_like(field, dtype=np.result_type(field.dtype, np.float64))
    for a in axes:
        out += _convolve_axis(field, kernel, offset + a) / sizes[a] ** 2
    return out


def _fft_laplacian(field, sizes, axes, offset):
    """Spectral Laplacian on an evenly mirrored field (no wrap-around jump at the borders)."""
    padded = field
    for a in axes:
        padded = np.concatenate([padded, np.flip(padded, axis=offset + a)], axis=offset + a)
    spectrum = np.fft.fftn(padded, axes=[offset + a for a in axes])
    symbol = 0.0
    for a in axes:
        k = 2 * np.pi * np.fft.fftfreq(padded.shape[offset + a], d=sizes[a])
        shape = [1] * padded.ndim
        shape[offset + a] = -1
        symbol = symbol - (k ** 2).reshape(shape)
    result = np.fft.ifftn(spectrum * symbol, axes=[offset + a for a in axes])
    index = tuple(slice(None) if i < offset or (i - offset) not in axes else slice(0, field.shape[i])
                  for i in range(field.ndim))
    result = result[index]
    return result if np.iscomplexobj(field) else result.real


def gradient(field, voxel_size_m, axis):
    """First derivative along spatial ``axis`` (4th-order central difference; 1/m x field units)."""
    sizes = voxel_sizes(voxel_size_m)
    kernel = np.array([-1.0, 8.0, 0.0, -8.0, 1.0]) / 12.0       # convolution order: f(x+2h) first
    return _convolve_axis(field, kernel, field.ndim - 3 + axis) / sizes[axis]


def curl(components, voxel_size_m):
    """Curl of a 3-component field (components along slice, row, col axes) -> 3 components.

    Removes the irrotational (compressional) part exactly for commuting difference operators
    (Sinkus et al., Magn Reson Med 2005, doi:10.1002/mrm.20404)."""
    u0, u1, u2 = components[0], components[1], components[2]
    return np.stack([gradient(u2, voxel_size_m, 1) - gradient(u1, voxel_size_m, 2),
                     gradient(u0, voxel_size_m, 2) - gradient(u2, voxel_size_m, 0),
                     gradient(u1, voxel_size_m, 0) - gradient(u0, voxel_size_m, 1)])


def dominant_wavelength_m(field, voxel_size_m, axes=(0, 1, 2)):
    """The wave's dominant wavelength (m) along ``axes``: 2 pi / k_rms, k_rms the power-weighted RMS
    wavenumber of its spatial spectrum (components and slices pooled; mirrored field, no wrap-around
    jump). k_rms^2 = sum k^2 |U(k)|^2 / sum |U(k)|^2 is, by Parseval, sum |grad U|^2 / sum |U|^2, so the
    short waves of soft tissue count fully (a median of |k| follows the long-wave envelope instead);
    the noise floor (median power of the outermost tenth of k-space) is subtracted first. None when
    the field holds no wave."""
    sizes = voxel_sizes(voxel_size_m)
    field = np.asarray(field)
    offset = field.ndim - 3
    axes = tuple(a for a in axes if field.shape[offset + a] > 1)
    if not axes:
        return None
    padded = field
    for a in axes:
        padded = np.concatenate([padded, np.flip(padded, axis=offset + a)], axis=offset + a)
    power = np.abs(np.fft.fftn(padded, axes=[offset + a for a in axes])) ** 2
    power = power.reshape((-1,) + power.shape[offset:]).sum(axis=0)
    k2 = 0.0
    for a in axes:
        k = 2 * np.pi * np.fft.fftfreq(padded.shape[offset + a], d=sizes[a])
        shape = [1] * 3
        shape[a] = -1
        k2 = k2 + (k ** 2).reshape(shape)
    k2 = np.broadcast_to(k2, power.shape)
    # Noise floor: the median power of the outermost tenth of k-space (beyond any resolvable wave),
    # taken off every bin, so that noise (white, or k^2-coloured after a curl) does not pull k_rms up.
    outer = k2 >= np.quantile(k2, 0.9)
    power = np.clip(power - np.median(power[outer]), 0.0, None)
    total = float(power.sum() - power[(0,) * 3])           # the mean (k = 0) is no wave
    if not total > 0:
        return None
    k_rms = np.sqrt(float((k2 * power).sum()) / total)
    return float(2 * np.pi / k_rms) if k_rms > 0 else None


def wavelength_scaled_sigma(field, voxel_size_m, sigma_vox, fraction, axes=(0, 1, 2)):
    """Gaussian widths (voxels, per (slice, row, col) axis) no wider than ``fraction`` of the wave's
    dominant wavelength: min(``sigma_vox``, fraction x lambda / h_axis).

    A Gaussian of width sigma attenuates a wave of wavelength lambda by exp(-2 pi^2 sigma^2 /
    lambda^2); since the field is a superposition of wavenumbers (heterogeneous tissue, standing
    waves, noise), a width fixed in voxels attenuates the short waves of soft tissue more than the
    long ones and MDEV's |U| / |Lap U| then reads too stiff: on coarse grids (a few voxels per
    wavelength) a 1.5-voxel Gaussian removes the wave itself. Scaling the width to the wavelength
    keeps that attenuation below 1 - exp(-2 pi^2 fraction^2) (18 % at fraction 0.1), as MDEV's
    practice of filtering relative to the wavelength does (Papazoglou et al., Phys Med Biol 2012,
    doi:10.1088/0031-9155/57/8/2329; Hirsch, Braun & Sack, Magnetic Resonance Elastography, Wiley
    2017, ch. 9). ``fraction`` 0: ``sigma_vox`` unchanged."""
    sizes = voxel_sizes(voxel_size_m)
    base = np.broadcast_to(np.asarray(sigma_vox, float), (3,)).copy()
    if not fraction or not np.any(base > 0):
        return tuple(float(s) for s in base), None
    wavelength = dominant_wavelength_m(field, sizes, axes)
    if wavelength is None:
        return tuple(float(s) for s in base), None
    capped = [min(float(base[a]), float(fraction) * wavelength / sizes[a]) for a in range(3)]
    return tuple(capped), wavelength
