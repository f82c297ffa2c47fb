"""Pharmacokinetic models for DCE-MRI and their voxel-wise fit.

Public API (units: t in s, concentrations in mM, Ktrans/kep/PS/Fp in 1/min, fractions 0..1):

- ``fit(model, ct_mM, t_s, cp_mM, fit_delay=False, **options)``
- ``concentration(model, t_s, cp_mM, **params)``
- ``MODELS``: model name -> parameters, bounds and units
- ``select_model(ct_mM, t_s, cp_mM, models=...)``: per-voxel choice by AICc

Models: "tofts", "extended_tofts", "patlak", "2cxm", "2cum" (one file each).
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import InputError
from ..fitting import levenberg_marquardt
from ..fitting import status as fit_status
from ..fitting.model_selection import aicc
from ..progress import report
from . import extended_tofts, patlak, tofts, two_compartment_exchange, two_compartment_uptake
from .convolution import shift

_MODULES = {m.NAME: m for m in (tofts, extended_tofts, patlak, two_compartment_exchange, two_compartment_uptake)}
UNITS = {"Ktrans": "1/min", "kep": "1/min", "ve": "", "vp": "", "Fp": "mL/min/mL", "PS": "1/min", "E": "",
         "delay_s": "s"}
MODELS = {name: {"parameters": module.PARAMETERS, "lower": module.LOWER, "upper": module.UPPER,
                 "units": {p: UNITS[p] for p in module.PARAMETERS}} for name, module in _MODULES.items()}
DEFAULT_DELAY_BOUNDS_S = (0.0, 20.0)


def _module(model):
    if model not in _MODULES:
        raise InputError(f"unknown kinetic model '{model}'; choose one of {', '.join(_MODULES)}")
    return _MODULES[model]


def _check_grid(t_s, cp_mM, n_frames):
    t = np.asarray(t_s, dtype=float)
    cp = np.asarray(cp_mM, dtype=float)
    if t.ndim != 1 or t.size != n_frames:
        raise InputError(f"time grid: {t.size} times for {n_frames} frames")
    if t.size < 4:
        raise InputError(f"time grid: {t.size} frames are too few for a kinetic fit")
    if np.any(np.diff(t) <= 0):
        raise InputError("time grid: times must increase strictly")
    if cp.ndim != 1 or cp.size != t.size:
        raise InputError(f"AIF: {cp.size} samples for a series of {t.size} frames "
                         "(the AIF must be on the series' time grid and as long)")
    if not np.all(np.isfinite(cp)):
        raise InputError("AIF: contains NaN or infinite values")
    return t, cp


def concentration(model, t_s, cp_mM, delay_s=None, **params):
    """Forward model: tissue concentration (..., T) in mM for parameter arrays broadcast together."""
    module = _module(model)
    t = np.asarray(t_s, dtype=float)
    cp = np.asarray(cp_mM, dtype=float)
    missing = [p for p in module.PARAMETERS if p not in params]
    if missing:
        raise InputError(f"model '{model}' needs parameters {', '.join(missing)}")
    arrays = np.broadcast_arrays(*[np.asarray(params[p], dtype=float) for p in module.PARAMETERS],
                                 *(() if delay_s is None else (np.asarray(delay_s, dtype=float),)))
    shape = arrays[0].shape
    p = np.stack([a.ravel() for a in arrays[:len(module.PARAMETERS)]], axis=1)
    t_min = (t - t[0]) / 60.0
    if delay_s is None:
        source = cp
    else:
        source = shift(cp, t, arrays[-1].ravel())
    return module.forward(p, t_min, source).reshape(shape + (t.size,))


def _linear_fit_error(module, ct, t_min, cp):
    start = module.linear_start(ct, t_min, cp)
    with np.errstate(all="ignore"):
        predicted = module.forward(_clean(start, module), t_min, cp)
    return start, np.nansum((predicted - ct) ** 2, axis=1)


def _clean(p, module):
    """Starting values inside the bounds (NaN replaced by mid-range defaults)."""
    lower, upper = module.LOWER, module.UPPER
    default = np.where(np.isfinite(upper), np.minimum(0.5 * (lower + upper), 0.2), 0.1)
    p = np.where(np.isfinite(p), p, default)
    span = upper - lower
    return np.clip(p, lower + 1e-3 * span, upper - 1e-3 * span)


def _starts(model, module, ct, t_min, cp):
    if model in ("tofts", "extended_tofts", "patlak"):
        return [_clean(module.linear_start(ct, t_min, cp), module)]
    ext = extended_tofts.linear_start(ct, t_min, cp)
    return [_clean(s, module) for s in module.starts_from_tofts(ext[:, 0], ext[:, 1], ext[:, 2])]


def _grid_delays(model, ct, t, t_min, cp, bounds, step):
    """Per-voxel delay (s) minimising the linear-fit error over a grid of candidate delays."""
    linear = _MODULES[model] if model in ("tofts", "extended_tofts", "patlak") else extended_tofts
    candidates = np.arange(bounds[0], bounds[1] + 1e-9, step)
    best_error = np.full(ct.shape[0], np.inf)
    best_delay = np.full(ct.shape[0], candidates[0])
    for delay in candidates:
        _, error = _linear_fit_error(linear, ct, t_min, shift(cp, t, delay))
        better = error < best_error
        best_error[better] = error[better]
        best_delay[better] = delay
    return best_delay


def fit(model, ct_mM, t_s, cp_mM, fit_delay=False, mask=None, bounds=None, delay_bounds_s=DEFAULT_DELAY_BOUNDS_S,
        delay_step_s=0.5, max_iter=100, chunk_size=20000, progress=None):
    """Fit ``model`` to every curve of ``ct_mM`` (..., T); see the package docstring.

    Returns arrays over the leading dims: the model's parameters and derived ones (kep,
    Ktrans/E for the two-compartment models, PS for Patlak), "delay_s" when fitted,
    "se_<parameter>", "rmse" (mM), "r2" and "status".
    """
    module = _module(model)
    ct = np.asarray(ct_mM)
    if not np.issubdtype(ct.dtype, np.floating):
        ct = ct.astype(float)
    if ct.ndim < 1:
        raise InputError("ct_mM: expected an array shaped (..., T)")
    t, cp = _check_grid(t_s, cp_mM, ct.shape[-1])
    lead = ct.shape[:-1]
    flat = ct.reshape(-1, t.size)
    selected = np.ones(flat.shape[0], bool) if mask is None else np.asarray(mask, bool).reshape(-1)
    if selected.size != flat.shape[0]:
        raise InputError(f"mask: shape {np.shape(mask)} does not match the voxel shape {lead}")
    finite = np.all(np.isfinite(flat), axis=1)
    rows = np.flatnonzero(selected & finite)
    names = list(module.PARAMETERS) + (["delay_s"] if fit_delay else [])
    lower = np.array(module.LOWER, dtype=float)
    upper = np.array(module.UPPER, dtype=float)
    for name, (lo, hi) in (bounds or {}).items():
        if name not in module.PARAMETERS:
            raise InputError(f"bounds: model '{model}' has no parameter '{name}'")
        index = module.PARAMETERS.index(name)
        lower[index], upper[index] = lo, hi

    n = flat.shape[0]
    results = {name: np.full(n, np.nan) for name in names}
    results.update({f"se_{name}": np.full(n, np.nan) for name in names})
    results.update({"rmse": np.full(n, np.nan), "r2": np.full(n, np.nan)})
    status = np.full(n, fit_status.MASKED, fit_status.DTYPE)
    status[selected & ~finite] = fit_status.NO_SIGNAL

    t_min = (t - t[0]) / 60.0
    # Chunks bound memory; they run on all cores at once (numpy releases the GIL in its kernels).
    threads = max(1, min(os.cpu_count() or 1, 8))
    size = int(min(chunk_size, max(256, -(-rows.size // threads))))
    chunks = [rows[start:start + size] for start in range(0, rows.size, size)]
    done = [0]

    def fit_chunk(chunk):
        y = flat[chunk].astype(float)        # float64 per chunk only; the input keeps its dtype
        if fit_delay:
            delays = _grid_delays(model, y, t, t_min, cp, delay_bounds_s, delay_step_s)
            starts = [_clean(s, module) for s in _starts_for_delays(model, module, y, t, t_min, cp, delays)]
            starts = [np.column_stack([s, delays]) for s in starts]
            lo = np.append(lower, delay_bounds_s[0])
            hi = np.append(upper, delay_bounds_s[1])

            def forward(p, _module=module):
                return _module.forward(p[:, :-1], t_min, shift(cp, t, p[:, -1]))
        else:
            starts = _starts(model, module, y, t_min, cp)
            lo, hi = lower, upper

            def forward(p, _module=module):
                return _module.forward(p, t_min, cp)
        analytic = getattr(module, "jacobian", None) if not fit_delay else None
        jacobian = (lambda p, _j=analytic: _j(p, t_min, cp)) if analytic else None
        best = None
        for p0 in starts:
            trial = levenberg_marquardt.fit(lambda p: forward(p), p0, y, lo, hi, jacobian=jacobian,
                                            max_iter=max_iter, chunk_size=chunk.size)
            if best is None:
                best = trial
                continue
            cost_best = np.where(np.isfinite(best["rmse"]), best["rmse"], np.inf)
            improved = np.isfinite(trial["rmse"]) & (trial["rmse"] < cost_best)
            for key in best:
                best[key][improved] = trial[key][improved]
        for index, name in enumerate(names):
            results[name][chunk] = best["params"][:, index]
            results[f"se_{name}"][chunk] = best["se"][:, index]
        results["rmse"][chunk] = best["rmse"]
        results["r2"][chunk] = best["r2"]
        status[chunk] = best["status"]
        done[0] += chunk.size
        report(progress, done[0] / max(rows.size, 1), f"{model}: {done[0]} of {rows.size} voxels")

    if len(chunks) > 1 and threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(fit_chunk, chunks))
    else:
        for chunk in chunks:
            fit_chunk(chunk)

    params = {name: results[name] for name in module.PARAMETERS}
    for name, values in module.derived(params).items():
        results.setdefault(name, values)
    out = {name: values.reshape(lead) for name, values in results.items()}
    out["status"] = status.reshape(lead)
    return out


def _starts_for_delays(model, module, y, t, t_min, cp, delays):
    """Starting values with each voxel's AIF shifted by its grid delay (grouped by delay)."""
    groups = {}
    for value in np.unique(delays):
        groups[value] = np.flatnonzero(delays == value)
    n_starts = len(_starts(model, module, y[:1], t_min, cp))
    starts = [np.zeros((y.shape[0], len(module.PARAMETERS))) for _ in range(n_starts)]
    for value, rows in groups.items():
        for k, s in enumerate(_starts(model, module, y[rows], t_min, shift(cp, t, value))):
            starts[k][rows] = s
    return starts


def select_model(ct_mM, t_s, cp_mM, models=("patlak", "tofts", "extended_tofts"), mask=None, progress=None):
    """Fit each model and choose per voxel by AICc; returns (choice index map, {model: fit}, aicc maps)."""
    ct = np.asarray(ct_mM, dtype=float)
    fits, scores = {}, []
    for index, model in enumerate(models):
        fits[model] = fit(model, ct, t_s, cp_mM, mask=mask,
                          progress=lambda f, m="", i=index: report(progress, (i + f) / len(models), m))
        rss = fits[model]["rmse"] ** 2 * ct.shape[-1]
        scores.append(np.where(np.isfinite(rss), aicc(rss, ct.shape[-1], len(MODELS[model]["parameters"])), np.inf))
    scores = np.stack(scores)
    return np.argmin(scores, axis=0), fits, scores
