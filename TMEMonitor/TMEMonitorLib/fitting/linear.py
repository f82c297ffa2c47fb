"""Batched linear least squares: one small system per voxel, solved together.

Normal equations (A^T W A) x = A^T W y for all voxels at once with np.linalg.solve on an
(N, P, P) stack; fine for the few, well-scaled columns of the linearised models used here
(Murase-type integral forms, log-linear ADC).
"""
import numpy as np

from ..errors import InputError
from . import quality
from . import status as fit_status


def solve_batched(design, y, weights=None, ridge=0.0):
    """Least-squares coefficients for every voxel.

    ``design``: (N, T, P) or (T, P) shared; ``y``: (N, T); ``weights`` None, (T,) or
    (N, T). Returns (coefficients (N, P), fitted (N, T)). Singular systems give NaN
    coefficients.
    """
    y = np.asarray(y, dtype=float)
    design = np.asarray(design, dtype=float)
    if design.ndim == 2:
        design = np.broadcast_to(design, (y.shape[0],) + design.shape)
    if design.shape[:2] != y.shape:
        raise InputError(f"linear fit: design {design.shape} does not match data {y.shape}")
    if weights is not None:
        w = np.sqrt(np.broadcast_to(np.asarray(weights, dtype=float), y.shape))
        design_w = design * w[..., None]
        y_w = y * w
    else:
        design_w, y_w = design, y
    design_t = np.swapaxes(design_w, 1, 2)
    ata = np.matmul(design_t, design_w)
    if ridge:
        ata = ata + ridge * np.eye(ata.shape[-1])[None]
    aty = np.matmul(design_t, y_w[..., None])[..., 0]
    coefficients = np.full(aty.shape, np.nan)
    with np.errstate(all="ignore"):
        # Scale to unit diagonal before judging singularity (columns differ in magnitude).
        d = np.sqrt(np.einsum("nii->ni", ata))
        scaled = ata / (d[:, :, None] * d[:, None, :])
        ok = np.all(np.isfinite(scaled), axis=(1, 2)) & np.all(d > 0, axis=1)
        # det of a unit-diagonal Gram matrix is in (0, 1], near 0 only when columns are collinear
        ok[ok] = np.abs(np.linalg.det(scaled[ok])) > 1e-13
        if np.any(ok):
            coefficients[ok] = np.linalg.solve(ata[ok], aty[ok][..., None])[..., 0]
    fitted = np.matmul(design, coefficients[..., None])[..., 0]
    return coefficients, fitted


def fit_linear(design, y, weights=None):
    """Linear least squares per voxel with quality measures.

    Returns {"params" (N, P), "rmse" (N,), "r2" (N,), "status" (N,)}: NO_SIGNAL for rows
    with non-finite data, FAILED for singular systems.
    """
    y = np.asarray(y, dtype=float)
    design = np.asarray(design, dtype=float)
    n = y.shape[0]
    n_params = design.shape[-1]
    out = {"params": np.full((n, n_params), np.nan), "rmse": np.full(n, np.nan), "r2": np.full(n, np.nan),
           "status": np.full(n, fit_status.NO_SIGNAL, fit_status.DTYPE)}
    rows = np.flatnonzero(np.all(np.isfinite(y), axis=1))
    if rows.size == 0:
        return out
    rows_design = design if design.ndim == 2 else design[rows]
    rows_weights = None if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), y.shape)[rows]
    coefficients, fitted = solve_batched(rows_design, y[rows], rows_weights)
    solved = np.all(np.isfinite(coefficients), axis=1)
    out["params"][rows] = coefficients
    out["rmse"][rows] = np.where(solved, quality.rmse(fitted - y[rows]), np.nan)
    out["r2"][rows] = np.where(solved, quality.r2(y[rows], fitted), np.nan)
    out["status"][rows] = np.where(solved, fit_status.OK, fit_status.FAILED)
    return out
