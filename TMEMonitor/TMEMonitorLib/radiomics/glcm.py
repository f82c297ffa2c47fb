"""Grey level co-occurrence matrix features (IBSI 1, section 3.6): symmetric matrices at
Chebyshev distance delta, the 13 (3D) or 4 (2D) directions, every IBSI aggregation."""
import numpy as np

from .texture_common import (average_valid, core, crop_to_mask, directions_2d,
                             directions_3d, shifted)

FEATURES = ("joint_max", "joint_avg", "joint_var", "joint_entr", "diff_avg", "diff_var",
            "diff_entr", "sum_avg", "sum_var", "sum_entr", "energy", "contrast",
            "dissimilarity", "inv_diff", "inv_diff_norm", "inv_diff_mom", "inv_diff_mom_norm",
            "inv_var", "corr", "auto_corr", "clust_tend", "clust_shade", "clust_prom",
            "info_corr1", "info_corr2")


def _entropy(p, axes):
    logp = np.log2(np.where(p > 0, p, 1.0))
    return -np.sum(p * logp, axis=axes)


def glcm_features(counts):
    """(K, N_g, N_g) symmetric co-occurrence counts -> tag -> (K,) feature values."""
    counts = np.asarray(counts, dtype=np.float64)
    k, n_g, _ = counts.shape
    total = counts.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / np.where(total > 0, total, np.nan)[:, None, None]
        i = np.arange(1, n_g + 1, dtype=float)[None, :, None]
        j = np.arange(1, n_g + 1, dtype=float)[None, None, :]
        absdiff = np.abs(i - j)
        out = {}
        out["joint_max"] = p.max(axis=(1, 2))
        mu = np.sum(i * p, axis=(1, 2))
        out["joint_avg"] = mu
        out["joint_var"] = np.sum((i - mu[:, None, None]) ** 2 * p, axis=(1, 2))
        hxy = _entropy(p, (1, 2))
        out["joint_entr"] = hxy
        # diagonal (|i-j| = d) and cross-diagonal (i+j = s) probabilities
        d_index = absdiff.astype(int)[0]
        s_index = (i + j).astype(int)[0]
        p_diff = np.zeros((k, n_g))
        p_sum = np.zeros((k, 2 * n_g + 1))
        for d in range(n_g):
            p_diff[:, d] = np.sum(p[:, d_index == d], axis=1)
        for s in range(2, 2 * n_g + 1):
            p_sum[:, s] = np.sum(p[:, s_index == s], axis=1)
        dv = np.arange(n_g, dtype=float)[None, :]
        sv = np.arange(2 * n_g + 1, dtype=float)[None, :]
        out["diff_avg"] = np.sum(dv * p_diff, axis=1)
        out["diff_var"] = np.sum((dv - out["diff_avg"][:, None]) ** 2 * p_diff, axis=1)
        out["diff_entr"] = _entropy(p_diff, 1)
        out["sum_avg"] = np.sum(sv * p_sum, axis=1)
        out["sum_var"] = np.sum((sv - out["sum_avg"][:, None]) ** 2 * p_sum, axis=1)
        out["sum_entr"] = _entropy(p_sum, 1)
        out["energy"] = np.sum(p ** 2, axis=(1, 2))
        out["contrast"] = np.sum((i - j) ** 2 * p, axis=(1, 2))
        out["dissimilarity"] = np.sum(absdiff * p, axis=(1, 2))
        out["inv_diff"] = np.sum(p / (1.0 + absdiff), axis=(1, 2))
        out["inv_diff_norm"] = np.sum(p / (1.0 + absdiff / n_g), axis=(1, 2))
        out["inv_diff_mom"] = np.sum(p / (1.0 + (i - j) ** 2), axis=(1, 2))
        out["inv_diff_mom_norm"] = np.sum(p / (1.0 + (i - j) ** 2 / n_g ** 2), axis=(1, 2))
        out["inv_var"] = np.sum(p_diff[:, 1:] / dv[:, 1:] ** 2, axis=1)
        p_i = p.sum(axis=2)                                     # (K, N_g), = p_j (symmetric)
        gl = np.arange(1, n_g + 1, dtype=float)[None, :]
        mu_i = np.sum(gl * p_i, axis=1)
        var_i = np.sum((gl - mu_i[:, None]) ** 2 * p_i, axis=1)
        out["auto_corr"] = np.sum(i * j * p, axis=(1, 2))
        out["corr"] = (out["auto_corr"] - mu_i * mu_i) / var_i
        centred = i + j - 2.0 * mu_i[:, None, None]
        out["clust_tend"] = np.sum(centred ** 2 * p, axis=(1, 2))
        out["clust_shade"] = np.sum(centred ** 3 * p, axis=(1, 2))
        out["clust_prom"] = np.sum(centred ** 4 * p, axis=(1, 2))
        hx = _entropy(p_i, 1)
        pij_marg = p_i[:, :, None] * p_i[:, None, :]
        log_marg = np.log2(np.where(pij_marg > 0, pij_marg, 1.0))
        hxy1 = -np.sum(p * log_marg, axis=(1, 2))
        hxy2 = -np.sum(pij_marg * log_marg, axis=(1, 2))
        out["info_corr1"] = (hxy - hxy1) / hx
        out["info_corr2"] = np.sqrt(np.clip(1.0 - np.exp(-2.0 * (hxy2 - hxy)), 0.0, None))
    empty = total == 0
    for key in out:
        out[key] = np.where(empty, np.nan, out[key])
    return out


def glcm_matrices(levels, mask, n_levels, distance=1):
    """(4, n_z, N_g, N_g) in-plane per-slice matrices and (13, N_g, N_g) 3D matrices."""
    pad = distance
    q = crop_to_mask(levels, mask, pad)
    center = core(q, pad)
    n_z = center.shape[0]
    ng2 = n_levels * n_levels
    z_index = np.broadcast_to(np.arange(n_z)[:, None, None], center.shape)
    per_slice = []
    volume = []
    for d in directions_3d():
        offset = tuple(distance * c for c in d)
        other = shifted(q, offset, pad)
        valid = (center > 0) & (other > 0)
        a = center[valid] - 1
        b = other[valid] - 1
        if d[0] == 0:
            idx = z_index[valid] * ng2 + a * n_levels + b
            m = np.bincount(idx, minlength=n_z * ng2).reshape(n_z, n_levels, n_levels)
            m = m + m.transpose(0, 2, 1)
            per_slice.append(m)
            volume.append(m.sum(axis=0))
        else:
            m = np.bincount(a * n_levels + b, minlength=ng2).reshape(n_levels, n_levels)
            volume.append(m + m.T)
    return np.array(per_slice), np.array(volume)


def glcm_family(levels, mask, n_levels, distance=1, want_2d=True, want_3d=True):
    per_slice, volume = glcm_matrices(levels, mask, n_levels, distance)
    out = {}
    n_dir2, n_z = per_slice.shape[:2]

    def add(suffix, mats, averaged):
        mats = np.asarray(mats, dtype=float)
        if not averaged:
            mats = mats.sum(axis=0, keepdims=True)
        feats = glcm_features(mats)
        valid = mats.sum(axis=(1, 2)) > 0
        for name in FEATURES:
            out[f"cm_{name}_{suffix}"] = average_valid(feats[name], valid)

    if want_2d:
        flat = per_slice.reshape(n_dir2 * n_z, n_levels, n_levels)
        add("2D_avg", flat, True)
        # per slice: merge the 4 directions, features per slice, average over slices
        feats = glcm_features(per_slice.sum(axis=0))
        valid = per_slice.sum(axis=(0, 2, 3)) > 0
        for name in FEATURES:
            out[f"cm_{name}_2D_comb"] = average_valid(feats[name], valid)
        add("2_5D_avg", per_slice.sum(axis=1), True)
        add("2_5D_comb", flat, False)
    if want_3d:
        add("3D_avg", volume, True)
        add("3D_comb", volume, False)
    return out
