"""Mono-exponential apparent diffusion coefficient: S(b) = S0 exp(-b ADC).

Methods: "loglinear" (closed-form least squares of ln S), "weighted" (iterated weighted
least squares of ln S with weights S^2, which undo the noise amplification of the log;
Veraart et al., NeuroImage 2013;81:335-346) and "nonlinear"
(bounded least squares on S itself with the shared batched engine).
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from .signal_models import adc_jacobian, adc_rows
from .fit_frame import empty_outputs, finish, mark_failed, prepare, quality

ADC_BOUNDS = (0.0, 0.01)          # mm2/s; free water at 37 C is ~3.0e-3 (Holz et al. 2000, doi:10.1039/b005319h)
METHODS = ("loglinear", "weighted", "nonlinear")


def loglinear(b, values, weights=None):
    """(ADC, S0, SE of ADC) per voxel from least squares of ln S = ln S0 - b ADC (closed form).

    ``weights`` (n, n_b) weight the squared log residuals; None means one shared design,
    so the fit is two matrix-vector products.
    """
    y = np.log(values)          # in the input's precision (float32 for scanner data): see check_b_values
    if weights is None:
        b_mean = b.mean()
        b_centred = b - b_mean
        sxx = float(b_centred @ b_centred)
        slope = (y @ b_centred) / sxx                      # sums in float64
        y_mean = y @ np.full(b.size, 1.0 / b.size)
        intercept = y_mean - slope * b_mean
        # Residual sum of squares from sums: sum (y - y_mean)^2 - slope^2 sxx.
        rss = np.maximum(np.einsum("ij,ij->i", y, y) - b.size * y_mean * y_mean - slope * slope * sxx, 0.0)
        se_slope = np.sqrt(rss / max(b.size - 2, 1) / sxx)
        return -slope, np.exp(intercept), se_slope
    w = weights
    sw, sb, sbb = w.sum(1), w @ b, w @ (b * b)
    sy, sby = (w * y).sum(1), (w * y) @ b
    det = sw * sbb - sb * sb
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (sw * sby - sb * sy) / det
        intercept = (sy - slope * sb) / sw
        residual = y - intercept[:, None] - slope[:, None] * b
        dof = np.maximum(np.count_nonzero(w, axis=1) - 2, 1)
        se_slope = np.sqrt((w * residual ** 2).sum(1) / dof * sw / det)
    return -slope, np.exp(intercept), se_slope


# Voxels per block of the shared-design log-linear path: the block's arrays stay in cache, and
# blocks run on all cores (numpy releases the GIL in its loops).
LOGLINEAR_BLOCK = 16384
# Threads for those blocks (None: one per core). One by default: 2 threads gave 1.3-1.6x on the
# 2-core machine (2026-12-03, 2 M voxels, float32), under the project's 1.6x bar for threading by
# default (issue 19); the blocks are memory-bound. Set 2 (or None) to use both cores anyway.
THREADS = 1


def loglinear_with_quality(b, values):
    """loglinear() plus RMSE and R2 in signal units, block by block on all cores (no weights).

    Returns (ADC, S0, se_ADC, rmse, r2), each (n,) float64."""
    n = values.shape[0]
    outputs = [np.empty(n) for _ in range(5)]
    dtype = values.dtype if values.dtype == np.float32 else np.float64
    b_fit = b.astype(dtype)

    def block(start):
        stop = min(start + LOGLINEAR_BLOCK, n)
        v = values[start:stop]
        adc, s0, se = loglinear(b, v)
        log_fitted = np.log(s0).astype(dtype)[:, None] - np.multiply.outer(adc.astype(dtype), b_fit)
        rmse, r2 = quality(v, np.exp(log_fitted))
        for target, value in zip(outputs, (adc, s0, se, rmse, r2)):
            target[start:stop] = value

    starts = range(0, n, LOGLINEAR_BLOCK)
    if n <= LOGLINEAR_BLOCK:
        block(0)
    else:
        workers = THREADS or os.cpu_count() or 1
        if workers == 1:
            for start in starts:
                block(start)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(block, starts))
    return outputs


_model, _jacobian = adc_rows, adc_jacobian


def fit_adc(signal, b_values, method="loglinear", b_min=None, b_max=None, mask=None, clip_value=None, floor=None,
            noise_sigma=None, progress=None):
    """ADC map from ``signal`` (..., n_b) at ``b_values`` (s/mm2), over b_min <= b <= b_max.

    Returns "ADC" (mm2/s), "S0", "se_ADC", "rmse", "r2", "status", "n_excluded" (arrays over
    the leading dims), "b_range" (the b-values used, s/mm2) and "method".
    """
    if method not in METHODS:
        raise InputError(f"ADC method '{method}' is not one of {', '.join(METHODS)}")
    prep = prepare(signal, b_values, b_min, b_max, mask, clip_value, floor, noise_sigma)
    b = prep.b
    every = bool(prep.usable.all())
    out, state = empty_outputs(prep, () if every else ("ADC", "S0", "se_ADC", "rmse", "r2"))
    rows = slice(None) if every else np.flatnonzero(prep.usable)
    v = prep.values[rows]
    w = None if (prep.all_valid and method == "loglinear") else prep.weights[rows]
    state_rows = np.full(v.shape[0], fit_status.OK, fit_status.DTYPE)
    if w is None:
        adc, s0, se, rmse, r2 = loglinear_with_quality(b, v)
    else:
        adc, s0, se = loglinear(b, v, w)
    if method == "weighted":
        for _ in range(3):
            predicted = s0[:, None] * np.exp(-b * adc[:, None])
            adc, s0, se = loglinear(b, v, w * np.nan_to_num(predicted) ** 2)
    elif method == "nonlinear":
        report(progress, 0.1, "ADC nonlinear fit")
        scale = np.where(np.isfinite(s0) & (s0 > 0), s0, v.max(1))
        p0 = np.column_stack([np.ones(v.shape[0]), np.clip(np.nan_to_num(adc, nan=1e-3), *ADC_BOUNDS)])
        fit = levenberg_marquardt.fit(lambda p: _model(p, b), p0, v / scale[:, None], [0.0, ADC_BOUNDS[0]],
                                      [np.inf, ADC_BOUNDS[1]],
                                      jacobian=lambda p: _jacobian(p, b), weights=w,
                                      progress=lambda f, m="": report(progress, 0.1 + 0.85 * f, m))
        adc, s0, se = fit["params"][:, 1], fit["params"][:, 0] * scale, fit["se"][:, 1]
        state_rows = fit["status"]
    if w is not None:
        dtype = v.dtype if v.dtype == np.float32 else np.float64
        fitted = s0[:, None].astype(dtype) * np.exp(np.multiply.outer(-adc.astype(dtype), b.astype(dtype)))
        rmse, r2 = quality(v, fitted, prep.weights[rows])
    state_rows = mark_failed(state_rows, adc, s0)
    if method != "nonlinear":
        # Closed forms are unbounded: a negative ADC (signal rising with b) is flagged, not clipped.
        state_rows[(adc <= ADC_BOUNDS[0]) | (adc >= ADC_BOUNDS[1])] = fit_status.HIT_BOUND
    for name, value in (("ADC", adc), ("S0", s0), ("rmse", rmse), ("r2", r2), ("se_ADC", se)):
        if every:
            out[name] = np.asarray(value, dtype=float)      # every voxel fitted: no scatter needed
        else:
            out[name][rows] = value
    state[rows] = state_rows
    report(progress, 1.0, "ADC done")
    return finish(out, state, prep, b_range=(float(b.min()), float(b.max())), method=method)
