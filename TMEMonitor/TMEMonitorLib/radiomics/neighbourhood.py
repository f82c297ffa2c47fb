"""Neighbourhood grey tone difference (NGTDM, IBSI 1 section 3.10) and neighbouring grey level
dependence (NGLDM, section 3.11) features. Neighbours are the voxels within Chebyshev
distance delta that lie in the ROI; 2D uses the in-slice neighbourhood."""
import numpy as np

from .matrix_features import aggregate, matrix_features
from .texture_common import average_valid, core, crop_to_mask, neighbourhood_offsets, shifted


def _neighbour_sums(q, distance, two_d):
    pad = distance
    padded = np.pad(q, pad, mode="constant")
    total = np.zeros(q.shape, dtype=np.float64)
    count = np.zeros(q.shape, dtype=np.int64)
    for off in neighbourhood_offsets(distance, two_d):
        other = shifted(padded, off, pad)
        inside = other > 0
        total += np.where(inside, other, 0)
        count += inside
    return total, count


def ngtdm_features(s, n, n_vc):
    """``s``, ``n``: (K, N_g) sums of |i - local mean| and voxel counts per grey level."""
    s = np.asarray(s, dtype=float)
    n = np.asarray(n, dtype=float)
    k, n_g = s.shape
    n_vc = np.asarray(n_vc, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = n / n_vc[:, None]
        i = np.arange(1, n_g + 1, dtype=float)[None, :]
        present = p > 0
        n_gp = present.sum(axis=1).astype(float)
        ps = np.sum(p * s, axis=1)
        out = {"ngt_coarseness": np.where(ps > 0, 1.0 / ps, np.nan)}
        pi, pj = p[:, :, None], p[:, None, :]
        ii, jj = i[:, :, None], i[:, None, :]
        both = present[:, :, None] & present[:, None, :]
        diff2 = (ii - jj) ** 2
        contrast = np.sum(np.where(both, pi * pj * diff2, 0.0), axis=(1, 2)) / (n_gp * (n_gp - 1))
        out["ngt_contrast"] = contrast * s.sum(axis=1) / n_vc
        denom = np.sum(np.where(both, np.abs(ii * pi - jj * pj), 0.0), axis=(1, 2))
        out["ngt_busyness"] = ps / denom
        si, sj = s[:, :, None], s[:, None, :]
        comp = np.where(both, np.abs(ii - jj) * (pi * si + pj * sj) / np.where(both, pi + pj, 1.0), 0.0)
        out["ngt_complexity"] = np.sum(comp, axis=(1, 2)) / n_vc
        out["ngt_strength"] = np.sum(np.where(both, (pi + pj) * diff2, 0.0), axis=(1, 2)) / s.sum(axis=1)
        # a single grey level: contrast, busyness and strength are undefined -> 0 by IBSI
        single = n_gp <= 1
        for key in ("ngt_contrast", "ngt_busyness", "ngt_strength"):
            out[key] = np.where(single, 0.0, out[key])
    return out


def ngtdm_family(levels, mask, n_levels, distance=1, want_2d=True, want_3d=True):
    out = {}
    q = crop_to_mask(levels, mask, 0)
    n_z = q.shape[0]
    z = np.broadcast_to(np.arange(n_z)[:, None, None], q.shape)
    for two_d, wanted in ((True, want_2d), (False, want_3d)):
        if not wanted:
            continue
        total, count = _neighbour_sums(q, distance, two_d)
        valid = (q > 0) & (count > 0)
        lev = q[valid] - 1
        diff = np.abs(q[valid] - total[valid] / count[valid])
        zz = z[valid]
        s = np.bincount(zz * n_levels + lev, weights=diff, minlength=n_z * n_levels).reshape(n_z, n_levels)
        n = np.bincount(zz * n_levels + lev, minlength=n_z * n_levels).reshape(n_z, n_levels)
        if two_d:
            n_vc = n.sum(axis=1)
            feats = ngtdm_features(s, n, n_vc)
            ok = n_vc > 0
            out.update({f"{t}_2D": average_valid(v, ok) for t, v in feats.items()})
            feats = ngtdm_features(s.sum(axis=0, keepdims=True), n.sum(axis=0, keepdims=True), [n.sum()])
            out.update({f"{t}_2_5D": float(v[0]) for t, v in feats.items()})
        else:
            feats = ngtdm_features(s.sum(axis=0, keepdims=True), n.sum(axis=0, keepdims=True), [n.sum()])
            out.update({f"{t}_3D": float(v[0]) for t, v in feats.items()})
    return out


def ngldm_family(levels, mask, n_levels, distance=1, alpha=0, want_2d=True, want_3d=True):
    out = {}
    q = crop_to_mask(levels, mask, 0)
    n_z = q.shape[0]
    z = np.broadcast_to(np.arange(n_z)[:, None, None], q.shape)
    pad = distance
    padded = np.pad(q, pad, mode="constant")
    for two_d, wanted in ((True, want_2d), (False, want_3d)):
        if not wanted:
            continue
        offsets = neighbourhood_offsets(distance, two_d)
        dependence = np.ones(q.shape, dtype=np.int64)      # the centre voxel counts: k >= 1
        for off in offsets:
            other = shifted(padded, off, pad)
            dependence += (other > 0) & (np.abs(other - q) <= alpha)
        inside = q > 0
        lev = q[inside] - 1
        dep = dependence[inside] - 1
        n_k = len(offsets) + 1
        zz = z[inside]
        m = np.bincount((zz * n_levels + lev) * n_k + dep, minlength=n_z * n_levels * n_k)
        m = m.reshape(n_z, n_levels, n_k)
        vox = inside.sum(axis=(1, 2))
        if two_d:
            feats = matrix_features(m, vox, "ngl")
            ok = m.sum(axis=(1, 2)) > 0
            out.update({f"{t}_2D": average_valid(v, ok) for t, v in feats.items()})
            out.update(aggregate("ngl", "2_5D", m, vox, False))
        else:
            out.update(aggregate("ngl", "3D", m, vox, False))
    return out
