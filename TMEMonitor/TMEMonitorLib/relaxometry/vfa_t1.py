"""T1 mapping from variable flip angle (VFA) spoiled gradient echo data.

Signal model (SPGR): S(a) = S0 sin(a) (1 - E1) / (1 - E1 cos(a)), E1 = exp(-TR R1).
Methods:
- "nonlinear": least squares on the signal. S0 enters linearly, so for each R1 the best
  S0 is closed form (variable projection); the remaining 1-D problem in log R1 is solved
  for all voxels at once by a grid search then golden-section refinement.
- "linear": DESPOT1 linearisation S/sin(a) = E1 S/tan(a) + S0 (1 - E1)
  (Deoni et al. MRM 2003, doi:10.1002/mrm.10407), fitted by ordinary least squares.
- "two_point": the same line through two flip angles (closed form).
A B1 map scales the flip angles: actual flip = nominal flip * b1.
"""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st
from TMEMonitorLib.fitting.golden_section import golden_section_minimise
from TMEMonitorLib.progress import report

from .spgr import _over_voxels, spgr_flip_factor, spgr_steady_state

METHODS = ("nonlinear", "linear", "two_point")
DEFAULT_T1_BOUNDS_S = (0.01, 20.0)  # physically plausible T1 range in tissue and blood (s)
_GRID_POINTS = 48
_GOLDEN_ITERATIONS = 45
_CHUNK = 200000


def _vfa_shape_function(a, e1):
    # S / (S0 (1 - E1)) as a function of flip a and E1
    return spgr_flip_factor(e1[:, None], a)


def _projected_fit(y, a, log_r1, tr):
    """Best M = S0 (1 - E1) for given log R1, and the residual sum of squares."""
    e1 = np.exp(-tr * np.exp(log_r1))
    g = _vfa_shape_function(a, e1)
    m = np.sum(g * y, axis=1) / np.sum(g * g, axis=1)
    resid = y - m[:, None] * g
    return m, np.sum(resid * resid, axis=1)


def _fit_nonlinear(y, a, tr, r1_lo, r1_hi):
    n = y.shape[0]
    grid = np.linspace(np.log(r1_lo), np.log(r1_hi), _GRID_POINTS)
    best_cost = np.full(n, np.inf)
    best_k = np.zeros(n, dtype=int)
    for k, g in enumerate(grid):
        _, cost = _projected_fit(y, a, np.full(n, g), tr)
        better = cost < best_cost
        best_cost[better] = cost[better]
        best_k[better] = k
    lo = grid[np.maximum(best_k - 1, 0)]
    hi = grid[np.minimum(best_k + 1, _GRID_POINTS - 1)]
    # golden-section search inside the bracket around the best grid point
    log_r1 = golden_section_minimise(lambda x: _projected_fit(y, a, x, tr)[1], lo, hi, _GOLDEN_ITERATIONS)
    m, _ = _projected_fit(y, a, log_r1, tr)
    r1 = np.exp(log_r1)
    s0 = m / (1.0 - np.exp(-tr * r1))
    edge = 1e-6
    at_bound = (log_r1 - np.log(r1_lo) < edge) | (np.log(r1_hi) - log_r1 < edge)
    return r1, s0, at_bound


def _fit_line(y, a, tr):
    """DESPOT1 ordinary least squares; returns R1, S0 and a validity mask."""
    x_lin = y / np.tan(a)
    y_lin = y / np.sin(a)
    xm = x_lin.mean(axis=1, keepdims=True)
    ym = y_lin.mean(axis=1, keepdims=True)
    sxx = np.sum((x_lin - xm) ** 2, axis=1)
    sxy = np.sum((x_lin - xm) * (y_lin - ym), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = sxy / sxx
        intercept = ym[:, 0] - slope * xm[:, 0]
        ok = np.isfinite(slope) & (slope > 0) & (slope < 1) & (sxx > 0)
        e1 = np.where(ok, slope, 0.5)
        r1 = -np.log(e1) / tr
        s0 = intercept / (1.0 - e1)
    ok &= np.isfinite(s0) & (s0 > 0)
    return r1, s0, ok


def fit_vfa(signal, flip_angles_deg, tr_s, method="nonlinear", b1_map=None, mask=None,
            t1_bounds_s=DEFAULT_T1_BOUNDS_S, two_point_indices=(0, -1), progress=None):
    """Fit T1 to VFA SPGR signals shaped (..., n_flip).

    ``flip_angles_deg``: nominal flip angles (n_flip,); ``tr_s``: repetition time (s);
    ``b1_map``: scalar or array over the leading dims (actual/nominal flip), NaN -> no fit;
    ``mask``: boolean over the leading dims (False -> MASKED); ``t1_bounds_s``: physical
    T1 range; a result outside or on it is flagged HIT_BOUND; ``two_point_indices``: the
    two flip angles used by method "two_point" (default first and last).
    Returns a dict of arrays over the leading dims: "R1" (1/s), "T1" (s), "S0", "status"
    (uint8), "rmse", "r2" (on the flip angles used).
    """
    if method not in METHODS:
        raise InputError(f"method: '{method}' is not one of {', '.join(METHODS)}")
    s = np.asarray(signal, dtype=float)
    fa = np.atleast_1d(np.asarray(flip_angles_deg, dtype=float))
    if fa.ndim != 1 or s.ndim < 1 or s.shape[-1] != fa.size:
        raise InputError(f"signal: last axis ({s.shape[-1] if s.ndim else 0}) must match the "
                         f"number of flip angles ({fa.size})")
    if not np.all(np.isfinite(fa)) or np.any(fa <= 0) or np.any(fa >= 180):
        raise InputError(f"flip_angles_deg: must lie in (0, 180) degrees, got {fa.tolist()}")
    tr = float(tr_s)
    if not np.isfinite(tr) or tr <= 0:
        raise InputError(f"tr_s: repetition time must be positive (s), got {tr_s!r}")
    if tr > 1.0:
        raise InputError(f"tr_s: {tr:g} s is implausible for SPGR; is TR in ms? Give it in seconds")
    t1_lo, t1_hi = (float(v) for v in t1_bounds_s)
    if not 0 < t1_lo < t1_hi:
        raise InputError(f"t1_bounds_s: expected (low, high) with 0 < low < high, got {t1_bounds_s!r}")
    if method == "two_point":
        if len(two_point_indices) != 2:
            raise InputError("two_point_indices: give exactly two flip-angle indices")
        used = np.arange(fa.size)[list(two_point_indices)]
        if used[0] == used[1] or fa[used[0]] == fa[used[1]]:
            raise InputError("two_point_indices: the two flip angles must differ")
    else:
        used = np.arange(fa.size)
        if np.unique(fa).size < 2:
            raise InputError("flip_angles_deg: at least two different flip angles are needed")

    lead = s.shape[:-1]
    flat = s.reshape(-1, fa.size)[:, used]
    n_vox = flat.shape[0]
    b1 = np.ones(n_vox) if b1_map is None else _over_voxels(b1_map, lead, "b1_map")
    sel = np.ones(n_vox, dtype=bool) if mask is None else _over_voxels(mask, lead, "mask", bool)

    r1 = np.full(n_vox, np.nan)
    s0 = np.full(n_vox, np.nan)
    status = np.full(n_vox, st.MASKED, dtype=st.DTYPE)
    rmse = np.full(n_vox, np.nan)
    r2 = np.full(n_vox, np.nan)

    usable = (np.all(np.isfinite(flat), axis=1) & (np.sum(flat > 0, axis=1) >= 2)
              & np.isfinite(b1) & (b1 > 0))
    if method == "two_point":
        usable &= np.all(flat > 0, axis=1)
    status[sel & ~usable] = st.NO_SIGNAL
    todo = np.flatnonzero(sel & usable)
    a_nominal = np.deg2rad(fa[used])

    for start in range(0, todo.size, _CHUNK):
        idx = todo[start:start + _CHUNK]
        y = flat[idx]
        a = a_nominal[None, :] * b1[idx, None]
        if np.any(a >= np.pi):
            raise InputError("b1_map: scales a flip angle to 180 degrees or more")
        if method == "nonlinear":
            r1_c, s0_c, at_bound = _fit_nonlinear(y, a, tr, 1.0 / t1_hi, 1.0 / t1_lo)
            ok = np.isfinite(r1_c) & np.isfinite(s0_c) & (s0_c > 0)
        else:
            r1_c, s0_c, ok = _fit_line(y, a, tr)
            at_bound = (r1_c < 1.0 / t1_hi) | (r1_c > 1.0 / t1_lo)
        e1 = np.exp(-tr * r1_c)
        pred = spgr_steady_state(s0_c[:, None], e1[:, None], a)
        sse = np.sum((y - pred) ** 2, axis=1)
        sst = np.sum((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
        r1[idx] = np.where(ok, r1_c, np.nan)
        s0[idx] = np.where(ok, s0_c, np.nan)
        rmse[idx] = np.where(ok, np.sqrt(sse / y.shape[1]), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2[idx] = np.where(ok & (sst > 0), 1.0 - sse / sst, np.nan)
        status[idx] = np.where(ok, np.where(at_bound, st.HIT_BOUND, st.OK), st.FAILED)
        report(progress, (start + idx.size) / max(todo.size, 1), f"T1 fit ({method})")

    with np.errstate(divide="ignore"):
        t1 = 1.0 / r1
    return {"R1": r1.reshape(lead), "T1": t1.reshape(lead), "S0": s0.reshape(lead),
            "status": status.reshape(lead), "rmse": rmse.reshape(lead), "r2": r2.reshape(lead)}
