"""Tofts and extended Tofts fitted by variable projection: a 1-D search on kep per voxel.

Ct = Ktrans E(kep) [+ vp cp], E = cp conv exp(-kep t), is linear in (Ktrans[, vp]) for fixed
kep, so those follow in closed form (a 1x1 or 2x2 normal system) and only kep is searched
(Golub & Pereyra, Inverse Problems 2003, doi:10.1088/0266-5611/19/2/201). With a shared AIF,
E(kep) is the same for every voxel: the reduced residual on a log-spaced kep grid is one matrix
product of the data with the tabulated E (BLAS), which gives each voxel its start (the grid
minimum, refined by a parabola); Gauss-Newton steps in ln kep with the exact recursion and its
kep-derivative (convolution.py), vectorised across voxels, then converge in a few passes. The
step uses the full Golub-Pereyra Jacobian of the projected residual, which stays well defined
as Ktrans -> 0.

Only interior optima are returned: a voxel whose unconstrained optimum falls on or outside the
bounds, or that does not converge, is reported in ``refit`` for the bounded Levenberg-Marquardt
fit (voxelwise_fit.py), so results within the bounds and status codes are those of that fit.
"""
import numpy as np

from ..fitting import fit_acceptance, quality
from ..fitting import status as fit_status
from ..fitting.levenberg_marquardt import standard_errors_from_normal_matrix
from .convolution import exp_conv_frame_major

# kep grid (1/min) for the start: 1e-3 to 200 /min in 49 log steps (ratio 1.29 per step).
# Beyond it the Gauss-Newton steps continue with the exact recursion.
KEP_GRID = np.geomspace(1e-3, 200.0, 49)
MAX_STEP = 1.0                 # largest ln(kep) step per iteration (a factor e)
STEP_TOL = 1e-9                # ln(kep) step below which a voxel has converged
BOUND_MARGIN = 1e-6            # fraction of a bound's span: closer counts as on the bound (as in the LM engine)
_TINY = 1e-300


def _products(e, d_e, rows_t, cp, extended):
    """Inner products over frames of E, dE (T, n) with themselves, the data rows_t (T, n) and cp."""
    out = {"ee": np.einsum("tn,tn->n", e, e), "de": np.einsum("tn,tn->n", d_e, e),
           "dd": np.einsum("tn,tn->n", d_e, d_e), "ey": np.einsum("tn,tn->n", e, rows_t),
           "dy": np.einsum("tn,tn->n", d_e, rows_t)}
    if extended:
        out["ec"], out["dc"] = cp @ e, cp @ d_e
    return out


def _solve(p, yy, cy, extended, cc):
    """The linear parameters, the residual sum of squares and dE'r from the inner products (all
    (n,)); residuals are never formed: in double precision the sum loses only ~eps y'y, far below
    any noise."""
    ee, de, ey, dy = p["ee"], p["de"], p["ey"], p["dy"]
    with np.errstate(all="ignore"):
        if extended:
            ec, dc = p["ec"], p["dc"]
            det = ee * cc - ec * ec
            ktrans = (cc * ey - ec * cy) / det
            vp = (ee * cy - ec * ey) / det
            # b' G^-1 b with b = (dE.E, dE.cp): the part of dE inside span(E, cp); (G^-1)_00 = cc / det
            p["projected"] = (cc * de * de - 2.0 * ec * de * dc + ee * dc * dc) / det
            p["g00"] = cc / det
            p["singular"] = ~(det > 1e-12 * ee * cc)
            cost = yy - ktrans * ey - vp * cy
            p["d_r"] = dy - ktrans * de - vp * dc
        else:
            ktrans = ey / ee
            vp = np.zeros_like(ktrans)
            p["projected"] = de * de / ee
            p["g00"] = 1.0 / ee
            p["singular"] = ~(ee > _TINY)
            cost = yy - ktrans * ey
            p["d_r"] = dy - ktrans * de
    p["ktrans"], p["vp"], p["cost"] = ktrans, vp, np.maximum(cost, 0.0)
    p["singular"] |= ~np.isfinite(p["cost"])
    return p


def _newton_step(s, kep):
    """Gauss-Newton step in ln kep, -g / H with g = -kep Ktrans dE'r and the full Golub-Pereyra
    curvature H = kep^2 [Ktrans^2 (dE'dE - b'G^-1 b) + (dE'r)^2 (G^-1)_00], and the decrease of
    the residual sum of squares it predicts, g^2 / H."""
    with np.errstate(all="ignore"):
        gradient = -kep * s["ktrans"] * s["d_r"]
        curvature = kep * kep * (s["ktrans"] ** 2 * np.maximum(s["dd"] - s["projected"], 0.0)
                                 + s["d_r"] ** 2 * s["g00"])
        good = (curvature > 0) & np.isfinite(curvature) & np.isfinite(gradient)
        safe = np.where(good, curvature, 1.0)
        step = np.where(good, -gradient / safe, 0.0)
        predicted = np.where(good, gradient * gradient / safe, np.inf)
    return np.clip(step, -MAX_STEP, MAX_STEP), predicted


def _grid_start(rows, t_min, cp, yy, cy, extended, cc):
    """ln kep start per voxel: the grid point of KEP_GRID with the smallest reduced residual (one
    matrix product of the data with the tabulated E), then one Gauss-Newton step from it with the
    tabulated dE (no per-voxel convolution)."""
    table, d_table = exp_conv_frame_major(cp, t_min, KEP_GRID, derivative=True)      # (T, K)
    grid = {"ee": np.einsum("tk,tk->k", table, table), "de": np.einsum("tk,tk->k", d_table, table),
            "dd": np.einsum("tk,tk->k", d_table, d_table)}
    ey = rows @ table                                                    # (n, K)
    with np.errstate(all="ignore"):
        if extended:
            grid["ec"], grid["dc"] = cp @ table, cp @ d_table
            # explained(k) = [ey, cy] G(k)^-1 [ey, cy]' = ey (a ey + 2 b cy) + c cy^2
            ee, ec = grid["ee"], grid["ec"]
            det = ee * cc - ec * ec
            usable = det > 1e-10 * ee * cc
            a, b, c = (np.where(usable, v / det, 0.0) for v in (cc, -ec, ee))
            explained = ey * (a * ey + (2.0 * b) * cy[:, None]) + c * (cy * cy)[:, None]
        else:
            usable = grid["ee"] > _TINY
            explained = ey * ey * np.where(usable, 1.0 / grid["ee"], 0.0)
    # The residual is |y|^2 - explained: the grid minimum is the maximum of ``explained``.
    explained[~np.isfinite(explained)] = -np.inf
    best = np.argmax(explained, axis=1)
    products = {key: values[best] for key, values in grid.items()}
    products["ey"] = np.take_along_axis(ey, best[:, None], axis=1)[:, 0]
    products["dy"] = np.einsum("nt,nt->n", rows, d_table.T[best])
    state = _solve(products, yy, cy, extended, cc)
    step, _ = _newton_step(state, KEP_GRID[best])
    spacing = np.log(KEP_GRID[1] / KEP_GRID[0])
    return np.log(KEP_GRID[best]) + np.clip(step, -spacing, spacing)


def _pick(values, rows):
    return {k: v[rows] for k, v in values.items()}


def fit(rows, t_min, cp, lower, upper, max_iter=100, ftol=1.49e-8):
    """Fit Tofts (``lower``/``upper`` of 2 parameters) or extended Tofts (3) to ``rows`` (n, T) mM
    with a shared plasma AIF ``cp`` (T,) on ``t_min`` (min).

    Returns the LM engine's dict ("params", "se", "rmse", "r2", "status") for every row and
    ``refit`` (n,) bool: rows to fit with the bounded engine instead (optimum on or outside the
    bounds, no convergence, or a degenerate problem); their entries here are meaningless.
    """
    rows = np.asarray(rows, dtype=float)
    cp = np.asarray(cp, dtype=float)
    n, n_frames = rows.shape
    extended = len(lower) == 3
    cc = float(cp @ cp)
    rows_t = np.ascontiguousarray(rows.T)                                # (T, n): frames outermost
    yy, cy = np.einsum("nt,nt->n", rows, rows), rows @ cp
    log_kep = _grid_start(rows, t_min, cp, yy, cy, extended, cc)
    kep = np.exp(log_kep)
    current = _solve(_products(*exp_conv_frame_major(cp, t_min, kep, derivative=True), rows_t, cp, extended),
                     yy, cy, extended, cc)
    step, predicted = _newton_step(current, kep)
    failed = current.pop("singular")
    # Converged: the next step would lower the residual sum by less than ftol of it (the LM
    # engine's relative-gain test), or is too short to change kep.
    converged = ~failed & ((predicted <= ftol * current["cost"]) | (np.abs(step) <= STEP_TOL))
    active = np.flatnonzero(~failed & ~converged)
    for _ in range(max_iter):
        if active.size == 0:
            break
        every = active.size == n
        trial_log = log_kep[active] + step[active]
        trial_kep = np.exp(trial_log)
        data_t = rows_t if every else rows_t[:, active]
        trial = _solve(_products(*exp_conv_frame_major(cp, t_min, trial_kep, derivative=True), data_t, cp, extended),
                       yy[active], cy[active], extended, cc)
        better = ~trial.pop("singular") & (trial["cost"] <= current["cost"][active])
        accepted = active[better]
        taken = _pick(trial, better)
        for key, values in taken.items():
            current[key][accepted] = values
        log_kep[accepted], kep[accepted] = trial_log[better], trial_kep[better]
        new_step, new_predicted = _newton_step(taken, trial_kep[better])
        step[accepted] = new_step
        done = np.zeros(active.size, bool)
        done[better] = (new_predicted <= ftol * taken["cost"]) | (np.abs(new_step) <= STEP_TOL)
        # A rejected step is shortened; one too short to matter means the voxel sits at its minimum.
        rejected = active[~better]
        step[rejected] *= 0.25
        done[~better] = np.abs(step[rejected]) <= STEP_TOL
        converged[active[done]] = True
        active = active[~done]
    return _finish(current, kep, rows, n_frames, lower, upper, converged, extended, cc)


def _finish(s, kep, rows, n_frames, lower, upper, converged, extended, cc):
    ktrans, vp = s["ktrans"], s["vp"]
    with np.errstate(all="ignore"):
        ve = ktrans / kep
    params = np.column_stack([ktrans, ve, vp] if extended else [ktrans, ve])
    span = np.asarray(upper, float) - np.asarray(lower, float)
    margin = BOUND_MARGIN * np.where(np.isfinite(span), span, 1.0)
    inside = np.all((params > lower + margin) & (params < upper - margin), axis=1)
    refit = ~(converged & inside & np.isfinite(s["cost"]))
    # J^T J of (Ktrans, ve[, vp]) from the sums: dCt/dKtrans = E + kep dE, dCt/dve = -kep^2 dE,
    # dCt/dvp = cp (as in tofts.forward_jacobian).
    k2 = kep * kep
    n_params = params.shape[1]
    jtj = np.empty((kep.size, n_params, n_params))
    jtj[:, 0, 0] = s["ee"] + 2.0 * kep * s["de"] + k2 * s["dd"]
    jtj[:, 0, 1] = jtj[:, 1, 0] = -k2 * (s["de"] + kep * s["dd"])
    jtj[:, 1, 1] = k2 * k2 * s["dd"]
    if extended:
        jtj[:, 0, 2] = jtj[:, 2, 0] = s["ec"] + kep * s["dc"]
        jtj[:, 1, 2] = jtj[:, 2, 1] = -k2 * s["dc"]
        jtj[:, 2, 2] = cc
    cost = np.where(refit, np.nan, s["cost"])
    se = standard_errors_from_normal_matrix(jtj, np.nan_to_num(cost, nan=0.0), n_frames)
    rmse = np.sqrt(cost / n_frames)
    r2 = quality.r2_from_sums(cost, rows)
    state = np.where(refit, fit_status.FAILED, fit_status.OK).astype(fit_status.DTYPE)
    state = fit_acceptance.judge(state, r2)
    return {"params": params, "se": se, "rmse": rmse, "r2": r2, "status": state, "refit": refit}
