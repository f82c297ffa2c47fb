"""Separable and dense convolutions with IBSI padding (no Python loop over voxels)."""
import numpy as np
from scipy import ndimage, signal

from .padding import ndimage_mode, pad


def separable(array, kernels, mode):
    """Convolve along each axis with ``kernels`` (one 1D kernel or None per axis).

    Kernels are centred on element len//2 (scipy.ndimage convention)."""
    out = np.asarray(array, dtype=np.float64)
    for axis, k in enumerate(kernels):
        if k is None:
            continue
        k = np.asarray(k, dtype=np.float64)
        out = ndimage.convolve1d(out, k, axis=axis, mode=ndimage_mode(mode), cval=0.0)
    return out


def dense(array, kernel, mode):
    """Convolution with a dense (odd-sized, possibly complex) kernel; FFT based."""
    half = [(s // 2, s // 2) for s in kernel.shape]
    padded = pad(np.asarray(array, dtype=np.float64), half, mode)
    return signal.fftconvolve(padded, kernel, mode="valid")
