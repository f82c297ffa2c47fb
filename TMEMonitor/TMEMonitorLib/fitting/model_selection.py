"""Per-voxel model selection: corrected Akaike information criterion and nested-model F-test.

AICc for least squares: n ln(RSS/n) + 2k + 2k(k+1)/(n-k-1) (Burnham & Anderson 2002, ch. 2;
used for DCE model selection by Sourbron & Buckley, NMR Biomed 2013, doi:10.1002/nbm.2940).
"""
import numpy as np
from scipy import stats


def aicc(rss, n_points, n_params):
    rss = np.maximum(np.asarray(rss, dtype=float), 1e-300)
    k = n_params
    return n_points * np.log(rss / n_points) + 2 * k + 2 * k * (k + 1) / max(n_points - k - 1, 1)


def f_test(rss_simple, rss_complex, n_points, params_simple, params_complex):
    """p-value that the complex (nested) model does not improve on the simple one."""
    rss_simple = np.asarray(rss_simple, dtype=float)
    rss_complex = np.maximum(np.asarray(rss_complex, dtype=float), 1e-300)
    d1 = params_complex - params_simple
    d2 = n_points - params_complex
    with np.errstate(all="ignore"):
        statistic = ((rss_simple - rss_complex) / d1) / (rss_complex / d2)
    return stats.f.sf(statistic, d1, d2)
