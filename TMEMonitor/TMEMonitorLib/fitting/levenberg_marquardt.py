"""Batched, bounded Levenberg-Marquardt least squares over many voxels at once.

All voxels of a chunk iterate together in numpy: each has its own damping, steps are
projected onto the bounds (a parameter on a bound whose gradient points outward is held
there), and voxels that have converged leave the active set. The Jacobian is the caller's
(analytic) or batched forward differences; it is recomputed only for voxels whose last step
was accepted. Memory is bounded by ``chunk_size`` voxels at a time.

Marquardt's scaled damping (Marquardt 1963, doi:10.1137/0111030); projection onto box
bounds as in projected LM (Kanzow, Yamashita & Fukushima 2004, doi:10.1016/j.cam.2003.12.042).
"""
import numpy as np

from ..errors import InputError
from ..progress import report
from . import fit_acceptance, quality
from . import status as fit_status

_EPS = np.finfo(float).eps
_LAMBDA_START, _LAMBDA_UP, _LAMBDA_DOWN, _LAMBDA_GIVE_UP = 1e-3, 5.0, 3.0, 1e8


def _take(args, rows):
    return tuple(a[rows] for a in args)


def _rows(weights, rows):
    return None if weights is None else weights[rows]


def _all_or(rows, n):
    """``rows`` (sorted, unique) as a slice when it is every row of ``n``, else unchanged."""
    return slice(None) if rows.size == n else rows


def _weighted(values, weights):
    """Residuals (n, T) or Jacobians (n, T, P) times the weights; no copy without weights."""
    if weights is None:
        return values
    return values * (weights if values.ndim == 2 else weights[..., None])


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


def _cholesky_solve(a, rhs):
    """Solve a x = rhs for a stack (n, P, P) of symmetric positive definite matrices by a
    Cholesky factorisation written out over the P columns, each step a vector operation across
    all voxels: for the few parameters of these models far cheaper than LAPACK called once per
    voxel. Rows whose matrix is not numerically positive definite come back NaN."""
    n_params = a.shape[-1]
    entry = [[np.ascontiguousarray(a[:, i, j]) for j in range(n_params)] for i in range(n_params)]
    factor = [[None] * n_params for _ in range(n_params)]
    ok = np.ones(a.shape[0], bool)
    for j in range(n_params):
        pivot = entry[j][j] - sum(factor[j][k] * factor[j][k] for k in range(j))
        ok &= pivot > 1e-300
        root = np.sqrt(np.where(pivot > 1e-300, pivot, 1.0))
        factor[j][j] = root
        for i in range(j + 1, n_params):
            factor[i][j] = (entry[i][j] - sum(factor[i][k] * factor[j][k] for k in range(j))) / root
    z = []
    for i in range(n_params):                      # L z = rhs
        z.append((rhs[:, i] - sum(factor[i][k] * z[k] for k in range(i))) / factor[i][i])
    x = [None] * n_params
    for i in reversed(range(n_params)):            # L' x = z
        x[i] = (z[i] - sum(factor[k][i] * x[k] for k in range(i + 1, n_params))) / factor[i][i]
    out = np.stack(x, axis=1)
    out[~ok] = np.nan
    return out, ok


def _solve(jtj, g, lam):
    """Solve (JTJ + lam * diag(JTJ)) dp = -g for every voxel; singular systems give NaN."""
    n_params = jtj.shape[-1]
    diag = np.einsum("nii->ni", jtj)
    scale = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-30))
    a = jtj + lam[:, None, None] * scale[:, :, None] * np.eye(n_params)[None]
    if n_params <= 4 and a.shape[0] >= 64:
        # The damped matrix is positive definite unless J is degenerate; those few rows go to LAPACK.
        with np.errstate(all="ignore"):
            out, ok = _cholesky_solve(a, -g)
        if not ok.all():
            bad = np.flatnonzero(~ok)
            out[bad] = _solve_lapack(a[bad], g[bad])
        return out
    return _solve_lapack(a, g)


def _solve_lapack(a, g):
    try:
        return np.linalg.solve(a, -g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(g.shape, np.nan)
        for i in range(a.shape[0]):          # rare: only when some system is exactly singular
            try:
                out[i] = np.linalg.solve(a[i], -g[i])
            except np.linalg.LinAlgError:
                pass
        return out


def _fit_chunk(model, jacobian, p0, y, lower, upper, args, weights, max_iter, xtol, ftol, on_iteration,
               evaluate=None):
    n, n_params = p0.shape
    p = np.clip(p0, lower, upper)
    # With ``evaluate`` (model and Jacobian from one pass), every trial point's Jacobian is kept
    # for the rows that accept it, so ``jac_store`` always holds J at the current p. It is kept
    # as J^T (n, P, T), C-ordered, so that taking or replacing rows copies whole blocks.
    jac_store = None
    if evaluate is None:
        f = model(p, *args)
    else:
        f, jac = evaluate(p, *args)
        jac_store = np.ascontiguousarray(np.swapaxes(jac, 1, 2))
    r = _weighted(f - y, weights)
    cost = np.sum(r * r, axis=1)
    lam = np.full(n, _LAMBDA_START)
    converged = np.zeros(n, bool)
    n_iter = np.zeros(n, int)
    jtj = np.zeros((n, n_params, n_params))
    grad = np.zeros((n, n_params))
    frozen = np.zeros((n, n_params), bool)
    stale = np.ones(n, bool)                 # Jacobian to (re)compute at the current p
    span = np.where(np.isfinite(upper - lower), upper - lower, 1.0)
    active = np.flatnonzero(np.isfinite(cost))
    for _ in range(max_iter):
        if active.size == 0:
            break
        # While every row is still in play (the first, heaviest iterations), rows are taken
        # by a slice (views) instead of fancy indexing (copies of every array).
        rows = _all_or(active, n)
        need = active[stale[rows]]
        if need.size:
            need = _all_or(need, n)
            pn, wn = p[need], _rows(weights, need)
            args_n = _take(args, need)
            if jac_store is not None:
                jac = np.swapaxes(jac_store[need], 1, 2)
            elif jacobian is None:
                jac = finite_difference_jacobian(model, pn, args_n, lower, upper, f[need])
            else:
                jac = jacobian(pn, *args_n)
            jac = _weighted(jac, wn)
            rn = _weighted(f[need] - y[need], wn)
            jac_t = np.swapaxes(jac, 1, 2)
            g = np.matmul(jac_t, rn[..., None])[..., 0]
            # Active set: a parameter on a bound whose descent direction points outside stays put.
            fr = ((pn <= lower + 1e-9 * span) & (g > 0)) | ((pn >= upper - 1e-9 * span) & (g < 0))
            if fr.any():
                jac = jac * ~fr[:, None, :]
                jac_t = np.swapaxes(jac, 1, 2)
                g = np.where(fr, 0.0, g)
            jtj[need] = np.matmul(jac_t, jac)   # batched BLAS; much faster than einsum here
            grad[need], frozen[need], stale[need] = g, fr, False
        pa, ga = p[rows].copy(), grad[rows]
        step = np.where(frozen[rows], 0.0, _solve(jtj[rows], ga, lam[rows]))
        trial = np.clip(pa + step, lower, upper)
        if jac_store is None:
            f_trial = model(trial, *_take(args, rows))
        else:
            f_trial, jac_trial = evaluate(trial, *_take(args, rows))
        r_trial = _weighted(f_trial - y[rows], _rows(weights, rows))
        cost_trial = np.sum(r_trial * r_trial, axis=1)
        old_cost = cost[rows].copy()
        better = np.isfinite(cost_trial) & (cost_trial < old_cost)
        if better.all():                       # the common case early on: no gathering
            accepted, take = rows, slice(None)
        else:
            accepted, take = active[better], better
        p[accepted] = trial[take]
        f[accepted] = f_trial[take]
        cost[accepted] = cost_trial[take]
        stale[accepted] = True
        if jac_store is not None:
            jac_store[accepted] = np.swapaxes(jac_trial, 1, 2)[take]
        lam[accepted] = np.maximum(lam[accepted] / _LAMBDA_DOWN, 1e-12)
        lam[active[~better]] *= _LAMBDA_UP
        n_iter[rows] += 1
        moved = np.abs(trial - pa)
        small_step = np.all(moved <= xtol * (np.abs(pa) + xtol), axis=1)
        small_gain = better & ((old_cost - cost_trial) <= ftol * np.maximum(old_cost, 1e-300))
        stationary = np.all(ga == 0.0, axis=1)           # zero projected gradient: nothing to do
        done = small_gain | (small_step & np.isfinite(cost_trial)) | stationary | (lam[rows] > _LAMBDA_GIVE_UP)
        converged[active[done]] = True
        active = active[~done]
        on_iteration(1.0 - active.size / max(n, 1))
    return p, f, cost, converged, n_iter, None if jac_store is None else np.swapaxes(jac_store, 1, 2)


def _default_start(p0, lower, upper):
    """Non-finite starting values replaced by the middle of the bounds (or 0 clipped to them)."""
    bounded = np.isfinite(lower) & np.isfinite(upper)
    middle = np.where(bounded, 0.5 * (np.where(bounded, lower, 0.0) + np.where(bounded, upper, 0.0)),
                      np.clip(0.0, lower, upper))
    return np.where(np.isfinite(p0), p0, middle)


def fit(model, p0, y, lower, upper, jacobian=None, args=(), weights=None, max_iter=50, xtol=1e-8,
        ftol=1e-10, chunk_size=20000, progress=None, standard_errors=True, evaluate=None, keep_model=False):
    """Fit ``model(p, *args) -> (n, T)`` to ``y`` (N, T) for every row.

    ``p0`` (N, P) starting values; ``lower``/``upper`` (P,) bounds (may be +-inf);
    ``jacobian(p, *args) -> (n, T, P)`` or None for forward differences; ``args`` arrays
    whose leading dim is N, sliced with ``y``; ``weights`` None, (T,) or (N, T), multiplying
    the residuals. Returns a dict: "params" (N, P), "status" (N,) uint8, "rmse" (N,),
    "r2" (N,), "se" (N, P) standard errors from J^T J (NaN where singular), "n_iter" (N,).
    Rows with non-finite data get status NO_SIGNAL and NaN parameters; rows that do not
    converge keep their best (finite) estimate with status FAILED; a converged row with a
    parameter on a bound gets HIT_BOUND. ``standard_errors=False`` skips the final Jacobian
    (the "se" entry stays NaN) for callers that compute their own uncertainties.
    ``evaluate(p, *args) -> (model, Jacobian)`` optionally gives both from one pass (models
    whose Jacobian reuses the model's work, such as the convolution recursions): each trial
    point is then evaluated once, and the final Jacobian is the last accepted one.
    ``keep_model=True`` (with ``evaluate``) adds "model" (N, T) and "jacobian" (N, T, P), both
    unweighted, at the returned parameters (NaN for rows that were not fitted), for callers that
    need them afterwards (a Laplace approximation at the optimum) without evaluating them again.
    """
    if keep_model and evaluate is None:
        raise InputError("fit: keep_model needs evaluate (the model and Jacobian of the last accepted step)")
    y = np.asarray(y, dtype=float)
    p0 = np.asarray(p0, dtype=float)
    if y.ndim != 2 or p0.ndim != 2 or p0.shape[0] != y.shape[0]:
        raise InputError(f"fit: y must be (N, T) and p0 (N, P); got {y.shape} and {p0.shape}")
    n, n_params = p0.shape
    lower = np.broadcast_to(np.asarray(lower, dtype=float), (n_params,))
    upper = np.broadcast_to(np.asarray(upper, dtype=float), (n_params,))
    if np.any(lower > upper):
        raise InputError(f"fit: lower bounds {lower} exceed upper bounds {upper}")
    if weights is not None:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), y.shape)
        if np.any(weights < 0):
            raise InputError("fit: weights must be non-negative")
    args = tuple(np.asarray(a) for a in args)
    for a in args:
        if a.ndim == 0 or a.shape[0] != n:
            raise InputError(f"fit: every element of args needs a leading dimension of {n}; got {a.shape}")
    p0 = _default_start(p0, lower, upper)
    chunk_size = max(int(chunk_size), 1)
    out = {"params": np.full((n, n_params), np.nan), "status": np.full(n, fit_status.NO_SIGNAL, fit_status.DTYPE),
           "rmse": np.full(n, np.nan), "r2": np.full(n, np.nan), "se": np.full((n, n_params), np.nan),
           "n_iter": np.zeros(n, int)}
    if keep_model:
        out["model"] = np.full(y.shape, np.nan)
        out["jacobian"] = np.full(y.shape + (n_params,), np.nan)
    usable = np.all(np.isfinite(y), axis=1)
    if weights is not None:
        usable &= np.all(np.isfinite(weights), axis=1)
    usable = np.flatnonzero(usable)
    total = max(usable.size, 1)
    for start in range(0, usable.size, chunk_size):
        rows = usable[start:start + chunk_size]

        def on_iteration(fraction, _start=start, _size=rows.size):
            report(progress, (_start + fraction * _size) / total, "fitting")

        p, f, cost, converged, n_iter, jac = _fit_chunk(model, jacobian, p0[rows], y[rows], lower, upper,
                                                        _take(args, rows), _rows(weights, rows), max_iter, xtol,
                                                        ftol, on_iteration, evaluate)
        se = _standard_errors(model, jacobian, p, f, _take(args, rows), _rows(weights, rows), cost, lower, upper,
                              y.shape[1], jac) if standard_errors else np.full(p.shape, np.nan)
        state = np.where(converged, fit_status.OK, fit_status.FAILED).astype(fit_status.DTYPE)
        span = np.where(np.isfinite(upper - lower), upper - lower, np.maximum(np.abs(p), 1.0))
        on_bound = np.any((np.abs(p - lower) <= 1e-6 * span) | (np.abs(p - upper) <= 1e-6 * span), axis=1)
        state[converged & on_bound] = fit_status.HIT_BOUND
        state[~np.isfinite(cost)] = fit_status.FAILED
        r2 = quality.r2(y[rows], f)
        # A converged fit that explains nothing (R2 <= 0, or stuck at its start) is not ok.
        state = fit_acceptance.judge(state, r2, p, p0[rows], singular=~np.any(np.isfinite(se), axis=1))
        out["params"][rows] = p
        out["status"][rows] = state
        out["rmse"][rows] = quality.rmse(f - y[rows])
        out["r2"][rows] = r2
        out["se"][rows] = se
        out["n_iter"][rows] = n_iter
        if keep_model:
            out["model"][rows], out["jacobian"][rows] = f, jac
        report(progress, (start + rows.size) / total, "fitting")
    return out


def fit_residuals(residual, p0, n_residuals, lower, upper, jacobian=None, args=(), **options):
    """Minimise sum(residual(p, *args) ** 2) per row with the same engine as :func:`fit`.

    For problems whose residual is not "model minus data": variable projection (the linear
    parameters solved inside ``residual``), complex data stacked as [real, imaginary].
    ``residual(p, *args) -> (n, n_residuals)``; ``jacobian(p, *args) -> (n, n_residuals, P)``
    is d residual / d p. Options and the returned dict are those of :func:`fit` ("rmse" is
    the RMS residual; "r2" is NaN: there is no data to explain).
    """
    p0 = np.asarray(p0, dtype=float)
    if p0.ndim != 2:
        raise InputError(f"fit_residuals: p0 must be (N, P); got {p0.shape}")
    return fit(residual, p0, np.zeros((p0.shape[0], int(n_residuals))), lower, upper, jacobian=jacobian, args=args,
               **options)


def _batched_inverse(a):
    """Inverses of a stack of square matrices; NaN for the (rare) exactly singular ones.
    2x2 and 3x3 by the adjugate (vector operations across the stack: several times faster than
    LAPACK called per matrix), larger ones by LAPACK."""
    if a.shape[-1] in (2, 3):
        return _adjugate_inverse(a)
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        out = np.full(a.shape, np.nan)
        for i in range(a.shape[0]):
            try:
                out[i] = np.linalg.inv(a[i])
            except np.linalg.LinAlgError:
                pass
        return out


def _norm_1(a):
    """Matrix 1-norm (largest column sum of |a|) of each matrix of a stack (n, P, P); the
    maximum over the few columns taken one column at a time (a reduction over a short axis is slow)."""
    sums = np.abs(a).sum(axis=1)
    out = sums[:, 0].copy()
    for j in range(1, sums.shape[1]):
        np.maximum(out, sums[:, j], out=out)
    return out


def _adjugate_inverse(a):
    """Inverse of a stack (n, P, P), P = 2 or 3, as adjugate / determinant; inf or NaN where singular."""
    if a.shape[-1] == 2:
        p, q, r, s = a[:, 0, 0], a[:, 0, 1], a[:, 1, 0], a[:, 1, 1]
        det = p * s - q * r
        adjugate = np.stack([np.stack([s, -q], -1), np.stack([-r, p], -1)], 1)
    else:
        m = [[a[:, i, j] for j in range(3)] for i in range(3)]
        # cofactor C_ij = (-1)^(i+j) minor_ij; the adjugate is C transposed
        cof = [[m[(i + 1) % 3][(j + 1) % 3] * m[(i + 2) % 3][(j + 2) % 3]
                - m[(i + 1) % 3][(j + 2) % 3] * m[(i + 2) % 3][(j + 1) % 3] for j in range(3)] for i in range(3)]
        det = m[0][0] * cof[0][0] + m[0][1] * cof[0][1] + m[0][2] * cof[0][2]
        adjugate = np.stack([np.stack([cof[j][i] for j in range(3)], -1) for i in range(3)], 1)
    with np.errstate(all="ignore"):
        return adjugate / det[:, None, None]


def _standard_errors(model, jacobian, p, f, args, weights, cost, lower, upper, n_points, jac=None):
    """Standard errors sqrt(diag((J^T J)^-1) RSS / (T - P)); NaN where J^T J is (near) singular.

    J^T J is scaled to unit diagonal before the conditioning test so that parameters of very
    different magnitudes (Fp ~ 1, vp ~ 0.01) do not look singular."""
    n, n_params = p.shape
    se = np.full((n, n_params), np.nan)
    if n == 0:
        return se
    if jac is None:
        jac = finite_difference_jacobian(model, p, args, lower, upper, f) if jacobian is None else jacobian(p, *args)
    jac = _weighted(jac, weights)
    jtj = np.matmul(np.swapaxes(jac, 1, 2), jac)
    return standard_errors_from_normal_matrix(jtj, cost, n_points)


def standard_errors_from_normal_matrix(jtj, cost, n_points):
    """sqrt(diag(jtj^-1) cost / (n_points - P)) for a stack jtj (n, P, P) of J^T J at the
    solutions and their residual sums of squares ``cost`` (n,); NaN where jtj is (near) singular.
    For fits that assemble J^T J themselves (e.g. from sums, kinetics/tofts_projection.py)."""
    n, n_params = jtj.shape[0], jtj.shape[-1]
    se = np.full((n, n_params), np.nan)
    if n == 0:
        return se
    dof = max(n_points - n_params, 1)
    with np.errstate(all="ignore"):
        d = np.sqrt(np.einsum("nii->ni", jtj))
        scaled = jtj / (d[:, :, None] * d[:, None, :])
        ok = np.all(np.isfinite(scaled), axis=(1, 2)) & np.all(d > 0, axis=1)
        if np.any(ok):
            # 1-norm condition number ||S||_1 ||S^-1||_1 from the inverse itself (an SVD per voxel
            # costs more than the whole inversion); singular matrices give inf or NaN and fail.
            scaled_ok = scaled[ok]
            inv = _batched_inverse(scaled_ok)
            norm = _norm_1(scaled_ok)
            norm_inv = _norm_1(inv)
            well = np.isfinite(norm_inv) & (norm * norm_inv < 1e12)
            rows = np.flatnonzero(ok)[well]
            inv = inv[well] / (d[rows][:, :, None] * d[rows][:, None, :])
            variance = np.einsum("nii->ni", inv) * (cost[rows] / dof)[:, None]
            se[rows] = np.sqrt(np.where(variance >= 0, variance, np.nan))
    return se
