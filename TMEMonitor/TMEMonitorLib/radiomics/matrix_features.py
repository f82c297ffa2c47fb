"""Features of the run/zone/dependence matrices M[i, j] (grey level i = 1..N_g, column value
j = run length, zone size, zone distance or dependence count = 1..N_j): GLRLM, GLSZM, GLDZM
and NGLDM share these definitions (IBSI 1, sections 3.7-3.9 and 3.11)."""
import numpy as np

# generic name -> family tag
TAGS = {
    "rlm": dict(short="sre", long="lre", low="lgre", high="hgre", short_low="srlge",
                short_high="srhge", long_low="lrlge", long_high="lrhge", glnu="glnu",
                glnu_norm="glnu_norm", jnu="rlnu", jnu_norm="rlnu_norm", perc="r_perc",
                gl_var="gl_var", j_var="rl_var", entr="rl_entr"),
    "szm": dict(short="sze", long="lze", low="lgze", high="hgze", short_low="szlge",
                short_high="szhge", long_low="lzlge", long_high="lzhge", glnu="glnu",
                glnu_norm="glnu_norm", jnu="zsnu", jnu_norm="zsnu_norm", perc="z_perc",
                gl_var="gl_var", j_var="zs_var", entr="zs_entr"),
    "dzm": dict(short="sde", long="lde", low="lgze", high="hgze", short_low="sdlge",
                short_high="sdhge", long_low="ldlge", long_high="ldhge", glnu="glnu",
                glnu_norm="glnu_norm", jnu="zdnu", jnu_norm="zdnu_norm", perc="z_perc",
                gl_var="gl_var", j_var="zd_var", entr="zd_entr"),
    "ngl": dict(short="lde", long="hde", low="lgce", high="hgce", short_low="ldlge",
                short_high="ldhge", long_low="hdlge", long_high="hdhge", glnu="glnu",
                glnu_norm="glnu_norm", jnu="dcnu", jnu_norm="dcnu_norm", perc="dc_perc",
                gl_var="gl_var", j_var="dc_var", entr="dc_entr", energy="dc_energy"),
}


def matrix_features(m, n_voxels, family):
    """``m``: (K, N_g, N_j) counts; ``n_voxels``: (K,) voxels behind each matrix.
    Returns tag -> (K,) arrays (NaN for empty matrices)."""
    m = np.asarray(m, dtype=np.float64)
    k, n_g, n_j = m.shape
    i = np.arange(1, n_g + 1, dtype=float)[None, :, None]
    j = np.arange(1, n_j + 1, dtype=float)[None, None, :]
    n_s = m.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ns = np.where(n_s > 0, n_s, np.nan)
        p = m / ns[:, None, None]
        row = m.sum(axis=2)          # per grey level
        col = m.sum(axis=1)          # per column value
        out = {
            "short": np.sum(m / j ** 2, axis=(1, 2)) / ns,
            "long": np.sum(m * j ** 2, axis=(1, 2)) / ns,
            "low": np.sum(m / i ** 2, axis=(1, 2)) / ns,
            "high": np.sum(m * i ** 2, axis=(1, 2)) / ns,
            "short_low": np.sum(m / (i ** 2 * j ** 2), axis=(1, 2)) / ns,
            "short_high": np.sum(m * i ** 2 / j ** 2, axis=(1, 2)) / ns,
            "long_low": np.sum(m * j ** 2 / i ** 2, axis=(1, 2)) / ns,
            "long_high": np.sum(m * i ** 2 * j ** 2, axis=(1, 2)) / ns,
            "glnu": np.sum(row ** 2, axis=1) / ns,
            "glnu_norm": np.sum(row ** 2, axis=1) / ns ** 2,
            "jnu": np.sum(col ** 2, axis=1) / ns,
            "jnu_norm": np.sum(col ** 2, axis=1) / ns ** 2,
            "perc": n_s / np.asarray(n_voxels, dtype=float),
        }
        mu_i = np.sum(p * i, axis=(1, 2))
        mu_j = np.sum(p * j, axis=(1, 2))
        out["gl_var"] = np.sum(p * (i - mu_i[:, None, None]) ** 2, axis=(1, 2))
        out["j_var"] = np.sum(p * (j - mu_j[:, None, None]) ** 2, axis=(1, 2))
        logp = np.where(p > 0, np.log2(np.where(p > 0, p, 1.0)), 0.0)
        out["entr"] = -np.sum(p * logp, axis=(1, 2))
        out["energy"] = np.sum(p ** 2, axis=(1, 2))
    out["perc"] = np.where(n_s > 0, out["perc"], np.nan)
    tags = TAGS[family]
    return {f"{family}_{tag}": out[name] for name, tag in tags.items()}


def aggregate(family, suffix, matrices, n_voxels, averaged):
    """Features with ``suffix`` from a stack of matrices: averaged over the stack when
    ``averaged`` (per-slice or per-direction features), else from their sum (merged)."""
    from .texture_common import average_valid
    matrices = np.asarray(matrices, dtype=float)
    n_voxels = np.asarray(n_voxels, dtype=float)
    if not averaged:
        matrices = matrices.sum(axis=0, keepdims=True)
        n_voxels = np.array([n_voxels.sum()])
    feats = matrix_features(matrices, n_voxels, family)
    valid = matrices.sum(axis=(1, 2)) > 0
    return {f"{tag}_{suffix}": average_valid(v, valid) for tag, v in feats.items()}
