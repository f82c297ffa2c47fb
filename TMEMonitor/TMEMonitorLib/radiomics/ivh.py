"""Intensity-volume histogram features (IBSI 1, section 3.5).

nu_i = fraction of the volume with discretised intensity >= i, evaluated at every grey level
of the total range G with interval w_d (absent levels included); gamma_i = (i - min G) /
(max G - min G). V_x = largest nu with gamma >= x; I_x = smallest level i with nu_i <= x.
"""
import numpy as np


def ivh_features(disc, int_mask):
    q = disc.levels[int_mask]
    n_v = q.size
    values = disc.level_values[q - 1]
    g_low, g_high = disc.value_range
    grid = g_low + disc.interval * np.arange(int(round((g_high - g_low) / disc.interval)) + 1)
    sorted_values = np.sort(values)
    # nu_i = 1 - fraction of voxels with a value < i (tolerance for float grids)
    below = np.searchsorted(sorted_values, grid - 1e-9 * max(disc.interval, 1.0), side="left")
    nu = 1.0 - below / n_v
    span = g_high - g_low
    gamma = (grid - g_low) / span if span > 0 else np.zeros_like(grid)
    out = {}
    for x, tag in ((0.10, "ivh_v10"), (0.90, "ivh_v90")):
        sel = gamma >= x - 1e-12
        out[tag] = float(nu[sel].max()) if sel.any() else 0.0
    for x, tag in ((0.10, "ivh_i10"), (0.90, "ivh_i90")):
        sel = nu <= x + 1e-12
        # no level of G holds <= x of the volume: the next level above G does (nu = 0)
        out[tag] = float(grid[sel].min()) if sel.any() else float(g_high + disc.interval)
    out["ivh_diff_v10_v90"] = out["ivh_v10"] - out["ivh_v90"]
    out["ivh_diff_i10_i90"] = out["ivh_i10"] - out["ivh_i90"]
    if grid.size > 1 and span > 0:
        out["ivh_auc"] = float(np.sum((nu[1:] + nu[:-1]) / 2.0 * np.diff(gamma)))
    else:
        out["ivh_auc"] = 0.0
    return out
