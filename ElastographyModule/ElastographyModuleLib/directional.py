"""k-space filters for wavenumber inversion: radial Butterworth band-pass and directional filters.

A standing wave has no phase gradient; splitting the field into waves travelling along a set
of directions n (filter ((k/|k|) . n)_+^2 in k-space) turns every part into a travelling wave
whose phase gradient is its wavenumber (Tzschatzsch et al., Med Image Anal 2016,
doi:10.1016/j.media.2016.01.001; directional filtering after Manduca et al., Med Image Anal
2003, doi:10.1016/S1361-8415(03)00038-0).
"""
import numpy as np


def in_plane_directions(count=8):
    """Unit vectors (slice, row, col) spread evenly over 360 degrees in the image plane."""
    angles = 2 * np.pi * np.arange(count) / count
    return np.stack([np.zeros(count), np.sin(angles), np.cos(angles)], axis=1)


def volume_directions():
    """14 unit vectors (slice, row, col): the 6 axis directions and the 8 body diagonals."""
    axes = np.vstack([np.eye(3), -np.eye(3)])
    diagonals = np.array([[a, b, c] for a in (1, -1) for b in (1, -1) for c in (1, -1)], float) / np.sqrt(3)
    return np.vstack([axes, diagonals])


def wavevectors(shape, voxel_size_m, axes):
    """Angular wavevector components (rad/m) per spatial axis, broadcast to ``shape``; 0 on unused axes."""
    grids = []
    for a in range(3):
        if a in axes:
            k = 2 * np.pi * np.fft.fftfreq(shape[a], d=voxel_size_m[a])
        else:
            k = np.zeros(1)
        view = [1, 1, 1]
        view[a] = -1
        grids.append(k.reshape(view))
    return grids


def butterworth_bandpass(k_abs, k_low, k_high, order=4):
    """Radial Butterworth band-pass in |k| (rad/m): passes k_low < |k| < k_high."""
    with np.errstate(divide="ignore"):
        high = 1.0 / np.sqrt(1.0 + (k_low / np.maximum(k_abs, 1e-30)) ** (2 * order)) if k_low > 0 else 1.0
    low = 1.0 / np.sqrt(1.0 + (k_abs / k_high) ** (2 * order)) if np.isfinite(k_high) else 1.0
    return high * low


def directional_filter(k_grids, direction, power=2):
    """((k/|k|) . n)_+^power: keeps waves travelling along ``direction`` (cos^power angular weight;
    a higher power narrows the cone, so fewer crossing waves share a part)."""
    k_abs = np.sqrt(sum(k ** 2 for k in k_grids))
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = sum(k * n for k, n in zip(k_grids, direction)) / k_abs
    cosine = np.nan_to_num(cosine)
    return np.where(cosine > 0, cosine ** power, 0.0)
