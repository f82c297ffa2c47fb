"""Per-voxel model selection: corrected Akaike information criterion and nested-model F-test.

AICc for least squares: n ln(RSS/n) + 2k + 2k(k+1)/(n-k-1) (Burnham & Anderson 2002, ch. 2;
used for DCE model selection by Sourbron & Buckley, NMR Biomed 2013, doi:10.1002/nbm.2940).
F-test for nested models: F = ((RSS1 - RSS2)/(k2 - k1)) / (RSS2/(n - k2)); the nested-model
selection of DCE fits follows Bagher-Ebadian et al., MRM 2012, doi:10.1002/mrm.23106.
"""
import numpy as np
from scipy import stats


def aicc(rss, n_points, n_params):
    """Corrected AIC per voxel (lower is better)."""
    rss = np.maximum(np.asarray(rss, dtype=float), 1e-300)
    k = n_params
    return n_points * np.log(rss / n_points) + 2 * k + 2 * k * (k + 1) / max(n_points - k - 1, 1)


def f_test(rss_simple, rss_complex, n_points, params_simple, params_complex):
    """p-value per voxel that the complex (nested) model does not improve on the simple one."""
    rss_simple = np.asarray(rss_simple, dtype=float)
    rss_complex = np.maximum(np.asarray(rss_complex, dtype=float), 1e-300)
    d1 = params_complex - params_simple
    d2 = n_points - params_complex
    with np.errstate(all="ignore"):
        statistic = np.maximum((rss_simple - rss_complex) / d1, 0.0) / (rss_complex / d2)
    return stats.f.sf(statistic, d1, d2)


def select_by_aicc(rss, n_points, n_params):
    """Index of the lowest-AICc model per voxel. ``rss``: (M, ...) per model; ``n_params``: (M,).
    Voxels where a model has no finite RSS never choose it. Returns (choice, aicc (M, ...))."""
    rss = np.asarray(rss, dtype=float)
    scores = np.stack([np.where(np.isfinite(r), aicc(r, n_points, k), np.inf) for r, k in zip(rss, n_params)])
    return np.argmin(scores, axis=0), scores


def select_by_f_test(rss, n_points, n_params, alpha=0.05):
    """Nested selection per voxel: start from the best-fitting model with the fewest parameters,
    then move to a model with more parameters only when the F-test finds it significantly
    better (p < ``alpha``) than the current choice. Models must be nested in order of their
    parameter counts (e.g. Patlak or Tofts within extended Tofts). Returns (choice, p-values
    (M, ...) of each model against the choice before it was considered; NaN where not tested)."""
    rss = np.asarray(rss, dtype=float)
    n_params = np.asarray(n_params)
    order = np.argsort(n_params, kind="stable")
    finite = np.where(np.isfinite(rss), rss, np.inf)
    fewest = order[n_params[order] == n_params[order[0]]]
    choice = fewest[np.argmin(finite[fewest], axis=0)]
    p_values = np.full(rss.shape, np.nan)
    for m in order:
        if n_params[m] == n_params[order[0]]:
            continue
        current_rss = np.take_along_axis(finite, choice[None], axis=0)[0]
        current_k = n_params[choice]
        p = f_test(current_rss, finite[m], n_points, current_k, n_params[m])
        p = np.where(np.isfinite(finite[m]) & (n_params[m] > current_k), p, np.nan)
        p_values[m] = p
        choice = np.where(p < alpha, m, choice)
    return choice, p_values
