"""Smooth baseline bases over the fit range (real design matrices; the baseline is complex).

'spline': cubic B-splines with knots about every ``knot_spacing_ppm`` (LCModel-like, without
its regularisation, hence the coarser default spacing); 'poly': Legendre polynomials of
degree ``order`` in ppm; None/'none': no baseline.
"""
import numpy as np
from scipy.interpolate import BSpline

from TMEMonitorLib.errors import InputError


def baseline_design(ppm, kind="spline", knot_spacing_ppm=1.0, order=3):
    ppm = np.asarray(ppm, float)
    if kind in (None, "none", False):
        return np.zeros((ppm.size, 0))
    lo, hi = ppm.min(), ppm.max()
    x = (ppm - lo) / max(hi - lo, 1e-12)
    if kind == "poly":
        if int(order) != order or order < 0 or order > 10:
            raise InputError(f"baseline polynomial order must be an integer 0..10 (got {order})")
        return np.polynomial.legendre.legvander(2 * x - 1, int(order))
    if kind == "spline":
        if not knot_spacing_ppm or knot_spacing_ppm <= 0:
            raise InputError(f"baseline knot spacing must be positive (got {knot_spacing_ppm} ppm)")
        n_intervals = max(1, int(round((hi - lo) / knot_spacing_ppm)))
        degree = 3
        inner = np.linspace(0.0, 1.0, n_intervals + 1)
        knots = np.concatenate([[0.0] * degree, inner, [1.0] * degree])
        design = BSpline.design_matrix(np.clip(x, 0.0, 1.0), knots, degree).toarray()
        return design
    raise InputError(f"baseline must be 'spline', 'poly' or None (got {kind!r})")
