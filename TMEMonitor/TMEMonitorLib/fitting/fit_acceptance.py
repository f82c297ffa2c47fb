"""When a converged fit counts as a result: the one rule every voxel-wise fit applies.

A fit can "converge" without explaining anything: with an all-zero input function every model
curve is flat, the Jacobian vanishes, and the optimiser stops at once at its start values; a
constant or wrapped series gives a curve that a constant describes as well as the model. Such a
voxel is not "ok". The rule (``judge``):

- R2 <= 0: the model is no better than the data's mean (R2 undefined, i.e. exactly constant
  data, is left to the fit's own status: e.g. R2* = 0 on its lower bound is HIT_BOUND);
- every parameter still at its start value (relative change below ``START_RTOL``) where the
  model's information matrix is singular there (no finite standard error): the optimiser never
  moved because the model does not depend on its parameters at that point (a start that is
  already the optimum of a well-posed fit, e.g. an exact linear start on noise-free data, stays
  accepted);
- data the caller knows do not follow the model (``not_model_like``, e.g. a diffusion signal
  that does not fall from the lowest to the highest b).

Such voxels get ``status.NOT_EXPLAINED``; :func:`blank` then writes NaN into every parameter
map of a voxel whose status is not in ``status.ACCEPTED`` (OK, HIT_BOUND), so a failed voxel
never shows its start values or a meaningless estimate. The status map says why.
"""
import numpy as np

from ..errors import InputError
from . import status as fit_status

START_RTOL = 1e-7           # relative change below which a parameter "never left its start"


def _at_start(params, starts):
    params = np.asarray(params, dtype=float)
    starts = np.asarray(starts, dtype=float)
    scale = np.maximum(np.abs(starts), 1e-12)
    return np.all(np.abs(params - starts) <= START_RTOL * scale, axis=-1)


def judge(state, r2, params=None, starts=None, not_model_like=None, singular=None):
    """``state`` (uint8 per voxel) with OK/HIT_BOUND voxels that explain nothing set NOT_EXPLAINED.

    ``singular``: per voxel, True where no parameter has a finite standard error (None: the
    start rule applies alone)."""
    state = np.array(state, dtype=fit_status.DTYPE, copy=True)
    converged = np.isin(state, fit_status.ACCEPTED)
    r2 = np.asarray(r2, dtype=float)
    with np.errstate(invalid="ignore"):
        rejected = r2 <= 0.0                     # -inf too; NaN (constant data) is not judged here
    if params is not None and starts is not None:
        stuck = _at_start(params, starts)
        if singular is not None:
            stuck &= np.asarray(singular, bool)
        rejected |= stuck
    if not_model_like is not None:
        rejected |= np.asarray(not_model_like, bool)
    state[converged & rejected] = fit_status.NOT_EXPLAINED
    return state


def accepted(state):
    """True where the voxel's parameter values are written."""
    return np.isin(np.asarray(state), fit_status.ACCEPTED)


def blank(values, state):
    """``values`` (float array over voxels) with NaN where the status is not accepted."""
    values = np.asarray(values)
    keep = accepted(state)
    if values.dtype.kind != "f":
        values = values.astype(float)
    return np.where(keep.reshape(keep.shape + (1,) * (values.ndim - keep.ndim)), values, np.nan)


def not_decaying(curves, x, noise=None, noise_factor=3.0):
    """Per voxel: True where the signal at the highest ``x`` (e.g. b) is not below the signal at
    the lowest (mean over the frames sharing each extreme); NaN rows count as not decaying.

    ``noise`` (per voxel, e.g. a fit's RMSE): the fall must also exceed ``noise_factor`` times it,
    so that a constant series plus noise does not pass by chance."""
    curves = np.asarray(curves, dtype=float)
    x = np.asarray(x, dtype=float)
    low = curves[..., x == x.min()].mean(axis=-1)
    high = curves[..., x == x.max()].mean(axis=-1)
    margin = 0.0 if noise is None else noise_factor * np.nan_to_num(np.asarray(noise, dtype=float), nan=0.0)
    with np.errstate(invalid="ignore"):
        return ~(low - high > margin)


def require_input_function(curve, what="arterial input function"):
    """Refuse an input function that cannot drive a model: non-finite, or never above zero."""
    curve = np.asarray(curve, dtype=float)
    if curve.size == 0 or not np.all(np.isfinite(curve)):
        raise InputError(f"{what}: holds NaN or infinite values")
    if not np.any(curve > 0):
        raise InputError(f"{what}: is zero (or negative) at every time point (peak {curve.max():g} mM): "
                         "no contrast agent reaches the tissue in it, so no kinetic parameter can be "
                         "estimated; check the AIF source (table, ROI or population delay)")
    return curve
