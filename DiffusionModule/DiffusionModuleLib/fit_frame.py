"""Shared frame of every diffusion fit: input checks, voxel selection, sample weights, outputs.

A fit flattens the signal to (n_voxels, n_b), keeps the b-range asked for, weights each
sample 1 (used) or 0 (clipped, below the floor, not positive), fits only the usable voxels
and scatters the results back, so that masked voxels read MASKED and unusable ones NO_SIGNAL
with NaN parameters, never a silent zero.
"""
from dataclasses import dataclass

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as fit_status

from .b_values import check_b_values, sample_weights


@dataclass
class Prepared:
    lead: tuple            # leading (voxel) shape of the input
    b: np.ndarray          # b-values kept (s/mm2)
    values: np.ndarray     # (n_voxels, n_b) signal to fit (Rician power-corrected when sigma given)
    weights: np.ndarray    # (n_voxels, n_b) 1 used / 0 excluded
    excluded: np.ndarray   # (n_voxels,) samples excluded
    selected: np.ndarray   # (n_voxels,) inside the mask
    usable: np.ndarray     # (n_voxels,) inside the mask with enough valid samples
    sigma: np.ndarray      # (n_voxels,) noise SD or None
    all_valid: bool        # every sample of every usable voxel is used (fast shared-design paths)


def prepare(signal, b_values, b_min=None, b_max=None, mask=None, clip_value=None, floor=None, noise_sigma=None,
            minimum_distinct=2):
    s, b = check_b_values(signal, b_values, minimum_distinct)
    keep = np.ones(b.size, bool)
    if b_min is not None:
        keep &= b >= b_min
    if b_max is not None:
        keep &= b <= b_max
    if np.unique(np.round(b[keep])).size < minimum_distinct:
        raise InputError(f"b-range [{b_min}, {b_max}] s/mm2 keeps fewer than {minimum_distinct} distinct b-values "
                         f"of {np.unique(b).tolist()}")
    lead = s.shape[:-1]
    flat = s.reshape(-1, b.size)
    if not keep.all():
        flat = flat[:, keep]
    sigma = None
    if noise_sigma is not None:
        sigma = np.broadcast_to(np.asarray(noise_sigma, dtype=float), lead).reshape(-1)
        if np.any(~np.isfinite(sigma)) or np.any(sigma < 0):
            raise InputError(f"noise_sigma must be finite and >= 0; got {noise_sigma}")
    values, weights, excluded, all_valid = sample_weights(flat, clip_value, floor, sigma)
    if mask is None:
        selected = np.ones(flat.shape[0], bool)
    else:
        mask = np.asarray(mask, bool)
        if mask.shape != lead:
            raise InputError(f"mask: shape {mask.shape} does not match the signal's voxel shape {lead}")
        selected = mask.reshape(-1)
    if all_valid:
        usable = selected.copy()
    else:
        usable = selected & (_distinct_used(b[keep], weights) >= minimum_distinct)
    return Prepared(lead, b[keep], values, weights, excluded, selected, usable, sigma, bool(all_valid))


def _distinct_used(b, weights):
    """Number of distinct b-values with at least one used sample, per voxel."""
    unique = np.unique(np.round(b))
    used = np.stack([weights[:, np.round(b) == value].any(axis=1) for value in unique], axis=1)
    return used.sum(axis=1)


def empty_outputs(prep, names):
    """NaN maps for ``names`` and a status map: MASKED outside the mask, NO_SIGNAL where unusable."""
    n = prep.selected.size
    out = {name: np.full(n, np.nan) for name in names}
    state = np.full(n, fit_status.MASKED, fit_status.DTYPE)
    state[prep.selected & ~prep.usable] = fit_status.NO_SIGNAL
    return out, state


def finish(out, state, prep, **metadata):
    """Reshape flat outputs to the input's voxel shape; add "status", "n_excluded" and metadata."""
    result = {name: values.reshape(prep.lead) for name, values in out.items()}
    result["status"] = state.reshape(prep.lead)
    result["n_excluded"] = prep.excluded.reshape(prep.lead).astype(float)
    result.update(metadata)
    return result


def quality(y, fitted, weights=None):
    """RMSE and R2 in signal units over the used samples (weights 0/1)."""
    residual = fitted - y
    if weights is None:
        n = y.shape[1]
        sse = np.einsum("ij,ij->i", residual, residual)
        mean = y.mean(axis=1)
        total = np.einsum("ij,ij->i", y, y) - n * mean * mean
        rmse = np.sqrt(sse / n)
    else:
        n = np.maximum(weights.sum(axis=1), 1)
        residual = residual * weights
        sse = np.einsum("ij,ij->i", residual, residual)
        mean = (y * weights).sum(axis=1) / n
        centred = (y - mean[:, None]) * weights
        total = np.einsum("ij,ij->i", centred, centred)
        rmse = np.sqrt(sse / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - sse / total
    return rmse, r2


def mark_failed(state_rows, *parameters):
    """FAILED wherever a fitted parameter is not finite."""
    finite = np.all([np.isfinite(p) for p in parameters], axis=0)
    return np.where(finite, state_rows, fit_status.FAILED).astype(fit_status.DTYPE)
