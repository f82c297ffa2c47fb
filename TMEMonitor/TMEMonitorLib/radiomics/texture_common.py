"""Shared machinery of the texture families: neighbourhood directions, cropping, shifted
views, and the IBSI aggregation of per-slice / per-direction matrices (IBSI 1, section 3.6).

Arrays are (z, y, x); 2D means in the (y, x) plane of each slice."""
import itertools

import numpy as np


def directions_3d():
    """The 13 unique direction vectors of the 26-neighbourhood (z, y, x), in-plane ones first."""
    out = []
    for d in itertools.product((-1, 0, 1), repeat=3):
        if d == (0, 0, 0):
            continue
        # keep one of each +/- pair: first non-zero component positive
        first = next(c for c in d if c != 0)
        if first > 0:
            out.append(d)
    out.sort(key=lambda d: (d[0] != 0, d))
    return out


def directions_2d():
    return [d for d in directions_3d() if d[0] == 0]


def neighbourhood_offsets(distance, two_d):
    """All offsets within Chebyshev distance ``distance`` (centre excluded)."""
    rz = 0 if two_d else distance
    out = []
    for dz in range(-rz, rz + 1):
        for dy in range(-distance, distance + 1):
            for dx in range(-distance, distance + 1):
                if (dz, dy, dx) != (0, 0, 0):
                    out.append((dz, dy, dx))
    return out


def crop_to_mask(levels, mask, pad):
    """Crop to the bounding box of ``mask`` with ``pad`` zero voxels around it."""
    idx = np.nonzero(mask)
    lo = [int(i.min()) for i in idx]
    hi = [int(i.max()) + 1 for i in idx]
    sl = tuple(slice(a, b) for a, b in zip(lo, hi))
    q = np.where(mask[sl], levels[sl], 0)
    return np.pad(q, pad, mode="constant")


def shifted(padded, offset, pad):
    """View of ``padded`` shifted by ``offset`` (|offset| <= pad), cropped to the core."""
    sl = []
    for o, n in zip(offset, padded.shape):
        sl.append(slice(pad + o, n - pad + o))
    return padded[tuple(sl)]


def core(padded, pad):
    return padded[tuple(slice(pad, n - pad) for n in padded.shape)]


def average_valid(values, valid):
    """Mean over the matrices that hold counts (empty slices/directions do not count)."""
    values = np.asarray(values, dtype=float)
    valid = np.asarray(valid, dtype=bool)
    if not valid.any():
        return np.nan
    sel = values[valid]
    sel = sel[np.isfinite(sel)] if np.isfinite(sel).any() else sel
    return float(np.mean(sel))


def is_isotropic(spacing, two_d):
    sz, sy, sx = spacing
    in_plane = abs(sy - sx) <= 1e-3 * max(sy, sx)
    if two_d:
        return in_plane
    return in_plane and abs(sz - sx) <= 1e-3 * max(sz, sx)
