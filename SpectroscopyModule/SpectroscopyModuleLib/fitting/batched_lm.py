"""Bounded Levenberg-Marquardt for many small independent problems at once.

Each voxel keeps its own damping and acceptance; only voxels still iterating are evaluated.
Bounds are enforced by clipping the step (the nonlinear parameters of an MRS fit are few and
their bounds are rarely active); a parameter on a bound that the gradient pushes outwards
is held for that step (projected Levenberg-Marquardt).
"""
import numpy as np


def levenberg_marquardt_batched(evaluate, x0, lower, upper, max_iter=50, ftol=1e-6, xtol=1e-6,
                                lam0=1e-2):
    """Minimise sum(r^2) per voxel.

    evaluate(x (v, P), rows (v,)) -> (residuals (v, R), jacobian (v, R, P)).
    Returns x (V, P), cost (V,), iterations (V,), converged (V,) bool."""
    x = np.clip(np.array(x0, float), lower, upper)
    n_vox, n_par = x.shape
    rows = np.arange(n_vox)
    r, jac = evaluate(x, rows)
    cost = np.sum(r ** 2, axis=1)
    lam = np.full(n_vox, lam0)
    active = np.isfinite(cost)
    converged = np.zeros(n_vox, bool)
    iterations = np.zeros(n_vox, int)
    eye = np.eye(n_par)[None]
    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        iterations[rows] += 1
        j, rr = jac[rows], r[rows]
        jtj = np.einsum("vkp,vkq->vpq", j, j)
        grad = np.einsum("vkp,vk->vp", j, rr)
        diag = np.diagonal(jtj, axis1=1, axis2=2)
        diag = np.maximum(diag, 1e-12 * diag.max(axis=1, keepdims=True) + 1e-300)
        system = jtj + lam[rows, None, None] * eye * diag[:, :, None]
        # parameters on a bound that the gradient pushes outwards are held (projected step)
        xr = x[rows]
        held = ((xr <= lower) & (grad > 0)) | ((xr >= upper) & (grad < 0))
        keep = ~held
        system = np.where(keep[:, :, None] & keep[:, None, :], system, 0.0) + eye * held[:, :, None]
        grad = np.where(keep, grad, 0.0)
        try:
            step = -np.linalg.solve(system, grad[..., None])[..., 0]
        except np.linalg.LinAlgError:   # a singular voxel: fall back to the pseudo-inverse
            step = -np.einsum("vpq,vq->vp", np.linalg.pinv(system), grad)
        x_new = np.clip(x[rows] + step, lower, upper)
        r_new, j_new = evaluate(x_new, rows)
        c_new = np.sum(r_new ** 2, axis=1)
        better = np.isfinite(c_new) & (c_new <= cost[rows])
        acc, rej = rows[better], rows[~better]
        rel = (cost[acc] - c_new[better]) / np.maximum(cost[acc], 1e-300)
        moved = np.abs(x_new[better] - x[acc]).max(axis=1) if n_par else np.zeros(acc.size)
        x[acc], r[acc], jac[acc], cost[acc] = x_new[better], r_new[better], j_new[better], c_new[better]
        lam[acc] = np.maximum(lam[acc] / 3.0, 1e-9)
        lam[rej] *= 4.0
        done_acc = (rel < ftol) | (moved < xtol * (1.0 + np.abs(x[acc]).max(axis=1)))
        converged[acc[done_acc]] = True
        active[acc[done_acc]] = False
        stalled = rej[lam[rej] > 1e8]
        converged[stalled] = True       # no downhill step left: a (local) minimum
        active[stalled] = False
    return x, cost, iterations, converged
