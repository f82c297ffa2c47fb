"""Grey level size zone (GLSZM, IBSI 1 section 3.8) and distance zone (GLDZM, section 3.9)
matrices. Zones are connected voxels of one grey level (26-connected in 3D, 8-connected in
each slice for 2D); a zone's distance is the smallest Manhattan distance of its voxels to the
ROI edge (voxels outside the ROI are at 0; distances 4-/6-connected)."""
import numpy as np
from scipy import ndimage

from .matrix_features import aggregate, matrix_features
from .texture_common import average_valid, crop_to_mask


def _structure(two_d):
    s = np.ones((3, 3, 3), dtype=bool)
    if two_d:
        s[0] = False
        s[2] = False
    return s


def distance_map(mask, two_d):
    """Manhattan distance to the ROI edge: 1 for edge voxels (image border counts as edge)."""
    padded = np.pad(mask, 1, mode="constant")
    if two_d:
        # slice by slice so that the distance never runs through z
        out = np.zeros(padded.shape, dtype=np.int64)
        for z in range(1, padded.shape[0] - 1):
            sl = padded[z]
            out[z] = ndimage.distance_transform_cdt(sl, metric="taxicab")
        return out[1:-1, 1:-1, 1:-1]
    return ndimage.distance_transform_cdt(padded, metric="taxicab")[1:-1, 1:-1, 1:-1]


def zone_list(q, two_d, distance=None):
    """Per zone: grey level, size, slice index and (if ``distance``) the minimum distance.

    Zones of every grey level get one global label; sizes, levels, slices and minimum
    distances then come from single vectorised passes over the ROI voxels."""
    structure = _structure(two_d)
    glob = np.zeros(q.shape, dtype=np.int64)
    offset = 0
    for g in np.unique(q[q > 0]):
        labels, n = ndimage.label(q == g, structure=structure)
        if n == 0:
            continue
        sel = labels > 0
        glob[sel] = labels[sel] + offset
        offset += n
    empty = np.zeros(0, dtype=np.int64)
    if offset == 0:
        return empty, empty, empty, (empty if distance is not None else None)
    inside = glob > 0
    lab = glob[inside]
    sizes = np.bincount(lab, minlength=offset + 1)[1:]
    levels = np.zeros(offset + 1, dtype=np.int64)
    levels[lab] = q[inside]
    slices = np.zeros(offset + 1, dtype=np.int64)
    slices[lab] = np.nonzero(inside)[0]            # 2D zones lie in one slice
    dists = None
    if distance is not None:
        dists = np.full(offset + 1, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(dists, lab, distance[inside].astype(np.int64))
        dists = dists[1:]
    return levels[1:], sizes, slices[1:], dists


def _per_slice_matrix(rows, cols, slices, n_z, n_g, n_c):
    idx = (slices * n_g + rows - 1) * n_c + cols - 1
    return np.bincount(idx, minlength=n_z * n_g * n_c).reshape(n_z, n_g, n_c)


def zone_families(levels, int_mask, distance_mask, n_levels, want_2d=True, want_3d=True,
                  want_szm=True, want_dzm=True):
    """GLSZM and GLDZM features with suffixes 2D (per slice, averaged), 2_5D (merged over
    slices) and 3D. ``distance_mask`` is the mask whose edge defines zone distances."""
    out = {}
    idx = np.nonzero(int_mask | distance_mask)
    sl = tuple(slice(int(i.min()), int(i.max()) + 1) for i in idx)
    q = np.where(int_mask[sl], levels[sl], 0)
    dmask = distance_mask[sl]
    n_z = q.shape[0]
    vox = (q > 0).sum(axis=(1, 2))
    for two_d, wanted in ((True, want_2d), (False, want_3d)):
        if not wanted:
            continue
        dist = distance_map(dmask, two_d) if want_dzm else None
        if dist is not None:
            # zone voxels outside the distance mask (possible only if the masks differ) count as edge
            dist = np.where(dmask, dist, 1)
        lev, size, zsl, zdist = zone_list(q, two_d, dist)
        for family, cols, wanted_family in (("szm", size, want_szm), ("dzm", zdist, want_dzm)):
            if not wanted_family:
                continue
            n_c = int(max(cols.max() if cols.size else 1, 1))
            if two_d:
                per_slice = _per_slice_matrix(lev, cols, zsl, n_z, n_levels, n_c)
                feats = matrix_features(per_slice, vox, family)
                valid = per_slice.sum(axis=(1, 2)) > 0
                out.update({f"{t}_2D": average_valid(v, valid) for t, v in feats.items()})
                out.update(aggregate(family, "2_5D", per_slice, vox, False))
            else:
                m = np.bincount((lev - 1) * n_c + cols - 1, minlength=n_levels * n_c).reshape(1, n_levels, n_c)
                out.update(aggregate(family, "3D", m, [vox.sum()], True))
    return out
