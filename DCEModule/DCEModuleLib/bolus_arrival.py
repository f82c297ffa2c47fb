"""Voxel-wise bolus arrival time by a piecewise linear-quadratic fit.

Model over the upslope, after the linear-quadratic model of Cheong et al. (Phys Med Biol
2003;48:N83-N88, doi:10.1088/0031-9155/48/5/403): f(t) = b before BAT, and
b + a1 (t - BAT) + a2 (t - BAT)^2 after, with a1 >= 0 (a linear term is added so that a
ramp-like upslope does not bias BAT). For a given BAT the model is linear in its
coefficients, so each candidate BAT costs one small linear solve per voxel; BAT is found for all voxels at once by a grid over the frame times
and midpoints, then golden-section refinement between neighbouring grid points.
"""
import numpy as np

_GOLDEN_ITERATIONS = 30


class _PrefixSums:
    """Prefix sums that give every least-squares sum of the model in O(1) per voxel.

    Time is rescaled to u in [0, 1] for conditioning. Frames after BAT contribute powers
    of d = u - u_BAT; those sums are expanded in powers of u (binomial theorem), so a
    candidate BAT costs O(N) instead of O(N T).
    """

    def __init__(self, t, y, end):
        self.t0, self.span = t[0], t[-1] - t[0]
        self.u = (t - self.t0) / self.span
        zero = np.zeros((y.shape[0], 1))
        self.y_pow = [np.concatenate([zero, np.cumsum(y * self.u ** j, axis=1)], axis=1) for j in range(3)]
        self.u_pow = [np.concatenate([[0.0], np.cumsum(self.u ** j)]) for j in range(5)]
        rows = np.arange(y.shape[0])
        self.rows, self.end = rows, end
        self.n = end + 1.0
        self.sum_y = self.y_pow[0][rows, end + 1]
        self.sum_yy = np.concatenate([zero, np.cumsum(y * y, axis=1)], axis=1)[rows, end + 1]

    def sums(self, bat):
        """Gram matrix entries and right-hand sides for arrival ``bat`` (N,) in s."""
        tau = (bat - self.t0) / self.span
        first = np.searchsorted(self.u, tau, side="right")  # first frame after BAT
        inside = first <= self.end
        lo = np.minimum(first, self.end + 1)
        up = [np.where(inside, p[self.end + 1] - p[lo], 0.0) for p in self.u_pow]
        yp = [np.where(inside, p[self.rows, self.end + 1] - p[self.rows, lo], 0.0) for p in self.y_pow]
        m = -tau
        d = [up[0],
             up[1] + m * up[0],
             up[2] + 2 * m * up[1] + m ** 2 * up[0],
             up[3] + 3 * m * up[2] + 3 * m ** 2 * up[1] + m ** 3 * up[0],
             up[4] + 4 * m * up[3] + 6 * m ** 2 * up[2] + 4 * m ** 3 * up[1] + m ** 4 * up[0]]
        r1 = yp[1] + m * yp[0]
        r2 = yp[2] + 2 * m * yp[1] + m ** 2 * yp[0]
        return d, (self.sum_y, r1, r2), tau


def _lq_cost(prefix, bat):
    """Residual sum of squares of the best fit for arrival ``bat`` (N,).

    After arrival the curve is b + a1 d + a2 d^2 (d = time since BAT) with a1 >= 0: the
    linear term lets a ramp-like upslope fit as well as a smooth quadratic onset (with the
    quadratic term alone a ramp pulls BAT early). If the unconstrained a1 is negative,
    the pure quadratic model (a1 = 0, a2 >= 0) is used, and if that does not rise either,
    a flat line.
    """
    d, (r0, r1, r2), _ = prefix.sums(bat)
    g00, g01, g02, g12, g22 = prefix.n, d[1], d[2], d[3], d[4]
    g11 = g02
    # symmetric 3x3 solve by the adjugate; a tiny ridge keeps it defined
    ridge = 1e-12 * (g00 + g11 + g22)
    g00r, g11r, g22r = g00 + ridge, g11 + ridge, g22 + ridge
    c00 = g11r * g22r - g12 * g12
    c01 = g02 * g12 - g01 * g22r
    c02 = g01 * g12 - g02 * g11r
    c11 = g00r * g22r - g02 * g02
    c12 = g01 * g02 - g00r * g12
    c22 = g00r * g11r - g01 * g01
    det = g00r * c00 + g01 * c01 + g02 * c02
    with np.errstate(divide="ignore", invalid="ignore"):
        b = (c00 * r0 + c01 * r1 + c02 * r2) / det
        a1 = (c01 * r0 + c11 * r1 + c12 * r2) / det
        a2 = (c02 * r0 + c12 * r1 + c22 * r2) / det
        # fallback: quadratic only, then flat
        det_q = g00 * g22 - g02 * g02
        a2_q = np.where(det_q > 1e-12 * g00 * g22, (g00 * r2 - g02 * r0) / det_q, 0.0)
        a2_q = np.maximum(a2_q, 0.0)
        b_q = (r0 - a2_q * g02) / g00
    bad = ~np.isfinite(a1) | (a1 < 0) | ~(np.abs(det) > 0)
    b = np.where(bad, b_q, b)
    a1 = np.where(bad, 0.0, a1)
    a2 = np.where(bad, a2_q, a2)
    # RSS = sum y^2 - 2 c.r + c' G c
    fit_r = b * r0 + a1 * r1 + a2 * r2
    quad = (b * b * g00 + a1 * a1 * g11 + a2 * a2 * g22
            + 2 * (b * a1 * g01 + b * a2 * g02 + a1 * a2 * g12))
    return np.maximum(prefix.sum_yy - 2 * fit_r + quad, 0.0)


def fit_bolus_arrival(y, t, rise_fraction=0.5):
    """BAT (s) per row of ``y`` (N, T) on frame times ``t`` (T,); NaN where nothing rises.

    Rows must be finite. Only the upslope is fitted: frames up to the first one that
    reaches ``rise_fraction`` of the rise to the peak, so that neither a plateau, a
    late persistent rise nor a washout after the peak bends the fit.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    n_rows, n_t = y.shape
    peak = np.argmax(y, axis=1)
    frames = np.arange(n_t)[None, :]
    before_peak = frames <= peak[:, None]
    low = np.min(np.where(before_peak, y, np.inf), axis=1)
    rise = y[np.arange(n_rows), peak] - low
    reached = before_peak & (y - low[:, None] >= rise_fraction * rise[:, None])
    end = np.argmax(reached, axis=1)
    t_end = t[end]
    # centre and scale the data too, so that the expanded sums stay well conditioned
    scale = np.where(rise > 0, rise, 1.0)
    prefix = _PrefixSums(t, (y - low[:, None]) / scale[:, None], end)
    grid = np.sort(np.concatenate([t, 0.5 * (t[1:] + t[:-1])]))
    best = np.full(n_rows, np.inf)
    best_k = np.zeros(n_rows, dtype=int)
    for k, g in enumerate(grid):
        cost = _lq_cost(prefix, np.full(n_rows, g))
        cost = np.where(g < t_end, cost, np.inf)
        better = cost < best
        best[better] = cost[better]
        best_k[better] = k
    lo = grid[np.maximum(best_k - 1, 0)]
    hi = np.minimum(grid[np.minimum(best_k + 1, grid.size - 1)], t_end)
    inv_phi = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(_GOLDEN_ITERATIONS):
        c = hi - inv_phi * (hi - lo)
        d = lo + inv_phi * (hi - lo)
        left = _lq_cost(prefix, c) <= _lq_cost(prefix, d)
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
    bat = 0.5 * (lo + hi)
    return np.where((peak > 0) & (rise > 0) & np.isfinite(best), bat, np.nan)
