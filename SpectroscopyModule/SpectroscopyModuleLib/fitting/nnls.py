"""Batched non-negative least squares on normal equations (Lawson-Hanson active set, in lockstep).

Solves min_a ||y - A a||^2, a >= 0 for many small problems at once, given G = A^T A
(V, M, M) and h = A^T y (V, M). Every voxel runs the classic Lawson & Hanson algorithm
(Solving Least Squares Problems, 1974, ch. 23); voxels that are done keep their solution
while the others iterate, so there is no Python loop over voxels.
"""
import numpy as np


def solve_on_passive_set(gram, rhs, passive, ridge=1e-12):
    """Solve G z = h restricted to the passive set (z = 0 elsewhere), batched.

    rhs may be (V, M) or (V, M, P)."""
    m = gram.shape[-1]
    both = passive[:, :, None] & passive[:, None, :]
    scale = np.maximum(np.abs(np.diagonal(gram, axis1=1, axis2=2)).max(axis=1), 1e-300)
    diagonal = np.where(passive, ridge * scale[:, None], 1.0)     # identity outside the set
    g = np.where(both, gram, 0.0) + np.eye(m)[None] * diagonal[:, :, None]
    vector = rhs.ndim == 2
    h = rhs[..., None] if vector else rhs
    h = np.where(passive[:, :, None], h, 0.0)
    z = np.linalg.solve(g, h)
    return z[..., 0] if vector else z


def nnls_batched(gram, rhs, max_outer=None, tol=1e-10):
    """Non-negative solution a (V, M) and its passive set (V, M) bool."""
    gram = np.asarray(gram, float)
    rhs = np.asarray(rhs, float)
    n_vox, m = rhs.shape
    x = np.zeros((n_vox, m))
    passive = np.zeros((n_vox, m), bool)
    scale = np.maximum(np.abs(rhs).max(axis=1), 1e-300)
    threshold = tol * scale
    rows_all = np.arange(n_vox)
    for _ in range(max_outer or 3 * m + 5):
        w = rhs - np.einsum("vij,vj->vi", gram, x)
        w_free = np.where(passive, -np.inf, w)
        j = w_free.argmax(axis=1)
        active = w_free[rows_all, j] > threshold
        if not active.any():
            break
        rows = np.flatnonzero(active)
        p = passive[rows].copy()
        p[np.arange(rows.size), j[rows]] = True
        xr = x[rows]
        g, h = gram[rows], rhs[rows]
        for _ in range(m + 1):
            z = solve_on_passive_set(g, h, p)
            bad = p & (z <= 0)
            need = bad.any(axis=1)
            if not need.any():
                break
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(bad, xr / (xr - z), np.inf)
            k = ratio.argmin(axis=1)
            alpha = np.where(need, np.clip(ratio[np.arange(rows.size), k], 0.0, 1.0), 1.0)
            xr = xr + alpha[:, None] * (z - xr)
            blocking = bad & (np.arange(m)[None] == k[:, None])
            drop = need[:, None] & ((xr <= threshold[rows, None] * 1e-3) | blocking)
            p &= ~drop
            xr = np.where(p, xr, 0.0)
        z = solve_on_passive_set(g, h, p)
        x[rows] = np.where(p, np.maximum(z, 0.0), 0.0)
        passive[rows] = p
    return x, passive
