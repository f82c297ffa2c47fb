"""Batched linear least squares: one small system per voxel, solved together."""
import numpy as np


def solve_batched(design, y, weights=None, ridge=0.0):
    """Least-squares coefficients for every voxel.

    ``design``: (N, T, P) or (T, P) shared; ``y``: (N, T). Returns (coefficients (N, P),
    fitted (N, T)). Singular systems give NaN coefficients.
    """
    y = np.asarray(y, dtype=float)
    design = np.asarray(design, dtype=float)
    if design.ndim == 2:
        design = np.broadcast_to(design, (y.shape[0],) + design.shape)
    if weights is not None:
        w = np.sqrt(np.asarray(weights, dtype=float))
        design_w = design * w[..., None]
        y_w = y * w
    else:
        design_w, y_w = design, y
    ata = np.matmul(np.swapaxes(design_w, 1, 2), design_w)
    if ridge:
        ata = ata + ridge * np.eye(ata.shape[-1])[None]
    aty = np.matmul(np.swapaxes(design_w, 1, 2), y_w[..., None])[..., 0]
    coefficients = np.full(aty.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = np.abs(np.linalg.det(ata)) > 1e-300
        if np.any(ok):
            coefficients[ok] = np.linalg.solve(ata[ok], aty[ok][..., None])[..., 0]
    fitted = np.einsum("ntp,np->nt", design, coefficients)
    return coefficients, fitted
