"""Batched, bounded Levenberg-Marquardt least squares over many voxels at once.

All voxels of a chunk iterate together in numpy: each has its own damping, steps are
projected onto the bounds, and voxels that have converged leave the active set. The
Jacobian is the caller's (analytic) or batched forward differences. Memory is bounded by
``chunk_size`` voxels at a time.

Marquardt's scaled damping (Marquardt 1963, doi:10.1137/0111030); projection onto box
bounds as in projected-gradient LM (Kanzow, Yamashita & Fukushima 2004,
doi:10.1016/j.cam.2003.12.042).
"""
import numpy as np

from ..progress import report
from . import status as fit_status

_EPS = np.finfo(float).eps


def _take(args, rows):
    return tuple(a[rows] for a in args)


def finite_difference_jacobian(model, p, args, lower, upper, f0=None):
    """Forward-difference Jacobian (n, T, P), stepping inward at an upper bound."""
    f0 = model(p, *args) if f0 is None else f0
    n, n_params = p.shape
    jac = np.empty(f0.shape + (n_params,))
    for j in range(n_params):
        h = np.sqrt(_EPS) * np.maximum(np.abs(p[:, j]), 1e-3)
        step = np.where(p[:, j] + h > upper[j], -h, h)
        shifted = p.copy()
        shifted[:, j] += step
        jac[..., j] = (model(shifted, *args) - f0) / step[:, None]
    return jac


def _solve(jtj, g, lam):
    """Solve (JTJ + lam * diag(JTJ)) dp = -g for every voxel; singular systems give NaN."""
    n_params = jtj.shape[-1]
    diag = np.einsum("nii->ni", jtj)
    scale = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-30))
    a = jtj + lam[:, None, None] * scale[:, :, None] * np.eye(n_params)[None]
    try:
        return np.linalg.solve(a, -g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(g.shape, np.nan)
        for i in range(a.shape[0]):
            try:
                out[i] = np.linalg.solve(a[i], -g[i])
            except np.linalg.LinAlgError:
                pass
        return out


def _fit_chunk(model, jacobian, p0, y, lower, upper, args, weights, max_iter, xtol, ftol):
    n, n_params = p0.shape
    p = np.clip(p0.astype(float), lower, upper)
    lam = np.full(n, 1e-3)
    f = model(p, *args)
    r = (f - y) * weights
    cost = np.sum(r * r, axis=1)
    converged = np.zeros(n, bool)
    n_iter = np.zeros(n, int)
    active = np.flatnonzero(np.isfinite(cost))
    for _ in range(max_iter):
        if active.size == 0:
            break
        pa, ya, wa, aa = p[active], y[active], weights[active], _take(args, active)
        fa = f[active]
        if jacobian is None:
            jac = finite_difference_jacobian(model, pa, aa, lower, upper, fa)
        else:
            jac = jacobian(pa, *aa)
        jac = jac * wa[..., None]
        ra = (fa - ya) * wa
        jac_t = np.swapaxes(jac, 1, 2)
        g = np.matmul(jac_t, ra[..., None])[..., 0]
        # Active set: a parameter on a bound whose descent direction points outside stays put.
        span = np.where(np.isfinite(upper - lower), upper - lower, 1.0)
        frozen = ((pa <= lower + 1e-9 * span) & (g > 0)) | ((pa >= upper - 1e-9 * span) & (g < 0))
        if frozen.any():
            jac = jac * ~frozen[:, None, :]
            jac_t = np.swapaxes(jac, 1, 2)
            g = np.where(frozen, 0.0, g)
        jtj = np.matmul(jac_t, jac)          # batched BLAS; much faster than einsum here
        step = _solve(jtj, g, lam[active])
        step = np.where(frozen, 0.0, step)
        trial = np.clip(pa + step, lower, upper)
        f_trial = model(trial, *aa)
        r_trial = (f_trial - ya) * wa
        cost_trial = np.sum(r_trial * r_trial, axis=1)
        better = np.isfinite(cost_trial) & (cost_trial < cost[active])
        idx_better = active[better]
        old_cost = cost[idx_better]
        moved = np.abs(trial[better] - pa[better])
        p[idx_better] = trial[better]
        f[idx_better] = f_trial[better]
        cost[idx_better] = cost_trial[better]
        lam[idx_better] = np.maximum(lam[idx_better] / 3.0, 1e-9)
        idx_worse = active[~better]
        lam[idx_worse] *= 5.0
        n_iter[active] += 1
        small_step = np.all(moved <= xtol * (np.abs(trial[better]) + xtol), axis=1)
        small_gain = (old_cost - cost_trial[better]) <= ftol * np.maximum(old_cost, 1e-300)
        done = np.zeros(active.size, bool)
        done[better] = small_step | small_gain
        done[~better] = lam[idx_worse] > 1e8      # no downhill step left: at a minimum
        converged[active[done]] = True
        active = active[~done]
    return p, f, cost, converged, n_iter


def fit(model, p0, y, lower, upper, jacobian=None, args=(), weights=None, max_iter=50, xtol=1e-7,
        ftol=1e-9, chunk_size=20000, progress=None):
    """Fit ``model(p, *args) -> (n, T)`` to ``y`` (N, T) for every row; see the module docstring.

    Returns a dict: "params" (N, P), "status" (N,) uint8, "rmse" (N,), "r2" (N,), "se" (N, P),
    "n_iter" (N,). Rows with non-finite data get status NO_SIGNAL and NaN parameters.
    """
    y = np.asarray(y, dtype=float)
    p0 = np.asarray(p0, dtype=float)
    if y.ndim != 2 or p0.ndim != 2 or p0.shape[0] != y.shape[0]:
        raise ValueError(f"fit: y must be (N, T) and p0 (N, P); got {y.shape} and {p0.shape}")
    n, n_params = p0.shape
    lower = np.broadcast_to(np.asarray(lower, dtype=float), (n_params,))
    upper = np.broadcast_to(np.asarray(upper, dtype=float), (n_params,))
    if weights is None:
        weights = np.ones_like(y)
    else:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), y.shape)
    args = tuple(np.asarray(a) for a in args)
    out = {"params": np.full((n, n_params), np.nan), "status": np.full(n, fit_status.NO_SIGNAL, fit_status.DTYPE),
           "rmse": np.full(n, np.nan), "r2": np.full(n, np.nan), "se": np.full((n, n_params), np.nan),
           "n_iter": np.zeros(n, int)}
    usable = np.flatnonzero(np.all(np.isfinite(y), axis=1) & np.all(np.isfinite(p0), axis=1))
    for start in range(0, usable.size, chunk_size):
        rows = usable[start:start + chunk_size]
        p, f, cost, converged, n_iter = _fit_chunk(model, jacobian, p0[rows], y[rows], lower, upper,
                                                   _take(args, rows), weights[rows], max_iter, xtol, ftol)
        residual = f - y[rows]
        n_points = y.shape[1]
        rmse = np.sqrt(np.mean(residual ** 2, axis=1))
        total = np.sum((y[rows] - y[rows].mean(axis=1, keepdims=True)) ** 2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = 1.0 - np.sum(residual ** 2, axis=1) / total
        se = _standard_errors(model, jacobian, p, f, _take(args, rows), weights[rows], cost, lower, upper, n_points)
        state = np.where(converged, fit_status.OK, fit_status.FAILED).astype(fit_status.DTYPE)
        span = np.where(np.isfinite(upper - lower), upper - lower, np.maximum(np.abs(p), 1.0))
        on_bound = np.any((np.abs(p - lower) <= 1e-6 * span) | (np.abs(p - upper) <= 1e-6 * span), axis=1)
        state[converged & on_bound] = fit_status.HIT_BOUND
        state[~np.isfinite(cost)] = fit_status.FAILED
        out["params"][rows] = p
        out["status"][rows] = state
        out["rmse"][rows] = rmse
        out["r2"][rows] = r2
        out["se"][rows] = se
        out["n_iter"][rows] = n_iter
        report(progress, min(1.0, (start + rows.size) / max(usable.size, 1)), "fitting")
    return out


def _standard_errors(model, jacobian, p, f, args, weights, cost, lower, upper, n_points):
    """Standard errors from (J^T J)^-1 scaled by the residual variance; NaN where singular."""
    n, n_params = p.shape
    jac = finite_difference_jacobian(model, p, args, lower, upper, f) if jacobian is None else jacobian(p, *args)
    jac = jac * weights[..., None]
    jtj = np.matmul(np.swapaxes(jac, 1, 2), jac)
    dof = max(n_points - n_params, 1)
    se = np.full((n, n_params), np.nan)
    with np.errstate(all="ignore"):
        cond_ok = np.linalg.cond(jtj) < 1e12
        if np.any(cond_ok):
            inv = np.linalg.inv(jtj[cond_ok])
            variance = np.einsum("nii->ni", inv) * (cost[cond_ok] / dof)[:, None]
            se[cond_ok] = np.sqrt(np.where(variance >= 0, variance, np.nan))
    return se
