"""Removal of the compressional (longitudinal) wave from MRE displacement fields.

Compressional waves in soft tissue travel at ~1500 m/s, so at 20-100 Hz their wavelength is
metres: across a field of view they are a near-constant, near-linear offset that carries no
shear information but inflates |U| (MDEV) and biases U / Laplacian(U) (Helmholtz).

* ``curl``: the curl of the 3-component field is free of any irrotational part and still obeys
  the shear Helmholtz equation (Sinkus et al., Magn Reson Med 2005, doi:10.1002/mrm.20404).
* ``bandpass``: for one component, a spatial high-pass (field minus a wide Gaussian low-pass
  of the field, with point-mirrored borders so that a linear trend is removed exactly) after
  the usual noise low-pass: the bandpass of MDEV pipelines (Papazoglou et al., Phys Med Biol
  2012, doi:10.1088/0031-9155/57/8/2329; Streitberger et al., PLoS One 2014,
  doi:10.1371/journal.pone.0110588). A linear shift-invariant filter scales a shear wave of
  wavelength well below the cut-off by a constant and leaves the inversion unbiased.
"""
import numpy as np
from scipy import ndimage

from .derivatives import curl

METHODS = ("none", "curl", "bandpass", "auto")


def highpass(field, sigma_vox, axes=(0, 1, 2)):
    """``field`` minus its Gaussian low-pass of width ``sigma_vox`` (voxels) along ``axes``.

    Borders are extended by point reflection (f(-x) = 2 f(0) - f(x)), which continues linear
    trends, so the long compressional wave leaves no step at the edge of the field of view."""
    offset = field.ndim - 3
    pad = [(0, 0)] * field.ndim
    sigma = np.zeros(field.ndim)
    for a in axes:
        width = int(min(field.shape[offset + a] - 1, np.ceil(3 * sigma_vox)))
        pad[offset + a] = (width, width)
        sigma[offset + a] = sigma_vox
    padded = np.pad(field, pad, mode="reflect", reflect_type="odd")

    def low(values):
        return ndimage.gaussian_filter(values, sigma, mode="reflect", truncate=3.0)

    smooth = low(padded.real) + 1j * low(padded.imag) if np.iscomplexobj(field) else low(padded)
    index = tuple(slice(p[0], p[0] + n) for p, n in zip(pad, field.shape))
    return field - smooth[index]


def remove_compression(wave, voxel_size_m, method, highpass_sigma_vox=8.0, axes=(0, 1, 2)):
    """(field to invert, method used) for a (components, slices, rows, cols) complex wave.

    ``auto``: curl with 3 components, bandpass otherwise."""
    if method not in METHODS:
        raise ValueError(f"compression removal '{method}' is not one of {', '.join(METHODS)}")
    if method == "auto":
        method = "curl" if wave.shape[0] == 3 else "bandpass"
    if method == "none":
        return wave, method
    if method == "curl":
        if wave.shape[0] != 3:
            raise ValueError(f"curl needs the 3 displacement components; the wave has {wave.shape[0]}")
        return curl(wave, voxel_size_m), method
    return highpass(wave, highpass_sigma_vox, axes), method
