"""Separable wavelet filters (IBSI 2, section 2.5) and the Simoncelli wavelet (section 2.6).

Separable: the response for a subband name such as "LHL" (x, y, z order; L = low-pass,
H = high-pass) at level j. Undecimated (stationary, a trous): level j uses the filters
dilated by 2^(j-1) (zeros inserted) on the low-pass approximation of level j-1.
Decimated: each level filters and keeps every second voxel (the map shrinks by 2 per level).
Rotation invariance averages the responses over the right-angle rotations of the input.

Simoncelli: isotropic band-pass defined in the frequency domain,
H(nu) = cos(pi/2 log2(2 nu / nu_max)) for nu_max/4 < nu <= nu_max, 0 elsewhere, with
nu the frequency magnitude in cycles per voxel, nu_max = 1/2 at level 1 and halving with
each level (Simoncelli & Freeman 1995; IBSI 2 section 2.6); applied by FFT on the padded image.
"""
import numpy as np

from ...errors import InputError
from .convolution import separable
from .padding import pad
from .rotations import pooled
from .wavelet_coefficients import highpass, lowpass


def _dilate(k, factor):
    if factor == 1:
        return k
    out = np.zeros((len(k) - 1) * factor + 1)
    out[::factor] = k
    return out


def _subband_kernels(name, two_d, lo, hi):
    name = name.upper()
    if len(name) != (2 if two_d else 3) or set(name) - {"L", "H"}:
        raise InputError(f"radiomics wavelet: subband {name!r} must be {2 if two_d else 3} letters of L/H "
                         "in x, y(, z) order")
    per_axis = [lo if c == "L" else hi for c in name]          # x, y, z
    if two_d:
        return [None, per_axis[1], per_axis[0]]
    return [per_axis[2], per_axis[1], per_axis[0]]


def _undecimated(array, subband, family, level, mode, two_d):
    lo, hi = lowpass(family), highpass(lowpass(family))
    approx = array
    for j in range(1, level):
        f = 2 ** (j - 1)
        approx = separable(approx, _subband_kernels("L" * (2 if two_d else 3), two_d,
                                                    _dilate(lo, f), _dilate(hi, f)), mode)
    f = 2 ** (level - 1)
    return separable(approx, _subband_kernels(subband, two_d, _dilate(lo, f), _dilate(hi, f)), mode)


def _downsample(a, two_d):
    return a[:, ::2, ::2] if two_d else a[::2, ::2, ::2]


def _decimated(array, subband, family, level, mode, two_d):
    lo, hi = lowpass(family), highpass(lowpass(family))
    approx = array
    low_name = "L" * (2 if two_d else 3)
    for _ in range(1, level):
        approx = _downsample(separable(approx, _subband_kernels(low_name, two_d, lo, hi), mode), two_d)
    return _downsample(separable(approx, _subband_kernels(subband, two_d, lo, hi), mode), two_d)


def wavelet_filter(array, subband, family="haar", level=1, mode="periodic", two_d=False,
                   decimated=False, rotation_invariance=False, pooling="average"):
    level = int(level)
    if level < 1:
        raise InputError(f"radiomics wavelet: level must be >= 1, got {level}")
    lowpass(family)      # validates the family name early

    def response(a):
        if decimated:
            return _decimated(a, subband, family, level, mode, two_d)
        return _undecimated(a, subband, family, level, mode, two_d)

    if rotation_invariance:
        if decimated:
            raise InputError("radiomics wavelet: rotation invariance needs the undecimated transform")
        return pooled(array, two_d, response, pooling)
    return response(array)


def simoncelli_filter(array, level=1, mode="periodic", two_d=False):
    level = int(level)
    if level < 1:
        raise InputError(f"radiomics Simoncelli: level must be >= 1, got {level}")
    array = np.asarray(array, dtype=np.float64)
    axes = (1, 2) if two_d else (0, 1, 2)
    # pad by half the image (band-pass support is global); periodic needs no padding
    widths = [(0, 0)] * 3
    if mode != "periodic":
        for a in axes:
            widths[a] = (array.shape[a] // 2, array.shape[a] // 2)
    padded = pad(array, widths, mode) if mode != "periodic" else array
    freqs = np.meshgrid(*[np.fft.fftfreq(padded.shape[a]) if a in axes else np.zeros(1)
                          for a in range(3)], indexing="ij")
    nu = np.sqrt(sum(f ** 2 for f in freqs))
    nu_max = 0.5 / 2 ** (level - 1)
    band = (nu > nu_max / 4) & (nu <= nu_max)
    with np.errstate(divide="ignore"):
        h = np.where(band, np.cos(np.pi / 2 * np.log2(2.0 * np.where(band, nu, 1.0) / nu_max)), 0.0)
    spectrum = np.fft.fftn(padded, axes=axes) * h
    out = np.real(np.fft.ifftn(spectrum, axes=axes))
    sl = tuple(slice(w[0], w[0] + n) for w, n in zip(widths, array.shape))
    return out[sl]
