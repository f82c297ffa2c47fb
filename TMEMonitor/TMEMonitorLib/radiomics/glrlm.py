"""Grey level run length matrix features (IBSI 1, section 3.7), every aggregation method.

Runs are found without a loop over voxels: each ROI voxel gets the key of the line through it
along direction d and its position t on that line; after sorting by (line, t), a voxel
continues a run when its predecessor is on the same line, one step back, at the same level."""
import numpy as np

from .matrix_features import aggregate
from .texture_common import crop_to_mask, directions_3d


def runs_along(q, direction):
    """(levels, lengths, slice index) of all runs of the non-zero voxels of ``q``."""
    coords = np.nonzero(q)
    lev = q[coords]
    if lev.size == 0:
        return lev, lev, lev
    axis = next(a for a in range(3) if direction[a] != 0)
    t = coords[axis] * direction[axis]
    span = max(q.shape)
    key = np.zeros(lev.size, dtype=np.int64)
    for a in range(3):
        origin = coords[a] - t * direction[a] + span          # >= 0
        key = key * (3 * span) + origin
    order = np.lexsort((t, key))
    key, t, lev_s, z = key[order], t[order], lev[order], coords[0][order]
    cont = np.zeros(lev.size, dtype=bool)
    cont[1:] = (key[1:] == key[:-1]) & (t[1:] == t[:-1] + 1) & (lev_s[1:] == lev_s[:-1])
    starts = np.flatnonzero(~cont)
    lengths = np.diff(np.append(starts, lev.size))
    return lev_s[starts], lengths, z[starts]


def glrlm_matrices(levels, mask, n_levels):
    """(4, n_z, N_g, N_r) in-plane per-slice matrices, (13, N_g, N_r) 3D matrices, and the
    voxel counts per slice."""
    q = crop_to_mask(levels, mask, 0)
    n_z = q.shape[0]
    n_r = max(q.shape)
    per_slice, volume = [], []
    for d in directions_3d():
        lev, length, z = runs_along(q, d)
        if d[0] == 0:
            idx = (z * n_levels + (lev - 1)) * n_r + (length - 1)
            m = np.bincount(idx, minlength=n_z * n_levels * n_r).reshape(n_z, n_levels, n_r)
            per_slice.append(m)
            volume.append(m.sum(axis=0))
        else:
            idx = (lev - 1) * n_r + (length - 1)
            volume.append(np.bincount(idx, minlength=n_levels * n_r).reshape(n_levels, n_r))
    voxels_per_slice = (q > 0).sum(axis=(1, 2))
    return np.array(per_slice), np.array(volume), voxels_per_slice


def glrlm_family(levels, mask, n_levels, want_2d=True, want_3d=True):
    per_slice, volume, vox = glrlm_matrices(levels, mask, n_levels)
    n_dir2, n_z, n_g, n_r = per_slice.shape
    out = {}
    if want_2d:
        flat = per_slice.reshape(n_dir2 * n_z, n_g, n_r)
        flat_vox = np.tile(vox, n_dir2)
        out.update(aggregate("rlm", "2D_avg", flat, flat_vox, True))
        # per slice merged over directions, averaged over slices
        merged = per_slice.sum(axis=0)
        from .matrix_features import matrix_features
        from .texture_common import average_valid
        feats = matrix_features(merged, vox * n_dir2, "rlm")
        valid = merged.sum(axis=(1, 2)) > 0
        out.update({f"{t}_2D_comb": average_valid(v, valid) for t, v in feats.items()})
        out.update(aggregate("rlm", "2_5D_avg", per_slice.sum(axis=1), np.full(n_dir2, vox.sum()), True))
        out.update(aggregate("rlm", "2_5D_comb", flat, flat_vox, False))
    if want_3d:
        n_v = vox.sum()
        out.update(aggregate("rlm", "3D_avg", volume, np.full(len(volume), n_v), True))
        out.update(aggregate("rlm", "3D_comb", volume, np.full(len(volume), n_v), False))
    return out
