"""Voxel-wise fit of a kinetic model to tissue concentration curves, with optional bolus delay.

Per chunk of voxels: a linear (Murase-type) fit gives the start for Tofts, extended Tofts and
Patlak; the two-compartment models start from the best of a few flow regimes derived from an
extended-Tofts linear fit. With ``fit_delay`` every voxel first gets the best delay on a grid
(linear fit at each candidate), then the delay is refined with the other parameters by the
batched bounded Levenberg-Marquardt engine, with an exact Jacobian (the models are linear in
the AIF, so d Ct / d delay is the model applied to d cp(t - delay) / d delay).
"""
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np

from ..errors import InputError
from ..fitting import levenberg_marquardt
from ..fitting import status as fit_status
from ..progress import report
from . import extended_tofts, tofts_projection
from .convolution import shift, shift_derivative
from .registry import check_grid, model_module

DEFAULT_DELAY_BOUNDS_S = (0.0, 20.0)
# Relative decrease of the residual sum of squares below which a voxel has converged: sqrt of
# machine epsilon, MINPACK's default (More, Garbow & Hillstrom 1980, ANL-80-74), far below any
# noise; a stricter value only lengthens the slow tail of ill-conditioned (2CXM) voxels.
FTOL = 1.49e-8
DEFAULT_THREADS = 1
_LINEAR_MODELS = ("tofts", "extended_tofts", "patlak")
_PROJECTED_MODELS = ("tofts", "extended_tofts")


def _clean(p, module):
    """Starting values strictly inside the bounds (NaN replaced by mid-range defaults)."""
    lower, upper = module.LOWER, module.UPPER
    default = np.where(np.isfinite(upper), np.minimum(0.5 * (lower + upper), 0.2), 0.1)
    p = np.where(np.isfinite(p), p, default)
    span = upper - lower
    return np.clip(p, lower + 1e-3 * span, upper - 1e-3 * span)


def _starts(module, ct, t_min, cp):
    """Candidate starting points (list of (n, P)) from linear fits."""
    if module.NAME in _LINEAR_MODELS:
        return [_clean(module.linear_start(ct, t_min, cp), module)]
    ext = extended_tofts.linear_start(ct, t_min, cp)
    starts = [_clean(s, module) for s in module.starts_from_tofts(ext[:, 0], ext[:, 1], ext[:, 2])]
    if hasattr(module, "linear_start"):       # the model's own linear fit (2CXM): usually the best start
        starts.insert(0, _clean(module.linear_start(ct, t_min, cp), module))
    return starts


def _grid_delays(module, ct, t, t_min, cp, bounds, step):
    """Per-voxel delay (s) with the smallest residual of the linear-start model over a grid."""
    linear = module if module.NAME in _LINEAR_MODELS else extended_tofts
    candidates = np.arange(bounds[0], bounds[1] + 1e-9, step)
    best_error = np.full(ct.shape[0], np.inf)
    best_delay = np.full(ct.shape[0], candidates[0])
    for delay in candidates:
        source = shift(cp, t, delay)
        start = _clean(linear.linear_start(ct, t_min, source), linear)
        with np.errstate(all="ignore"):
            error = np.sum((linear.forward(start, t_min, source) - ct) ** 2, axis=1)
        better = error < best_error
        best_error[better] = error[better]
        best_delay[better] = delay
    return best_delay


def _starts_for_delays(module, ct, t, t_min, cp, delays):
    """Starting points with each voxel's AIF shifted by its grid delay (grouped by delay)."""
    starts = None
    for value in np.unique(delays):
        rows = np.flatnonzero(delays == value)
        group = _starts(module, ct[rows], t_min, shift(cp, t, value))
        if starts is None:
            starts = [np.zeros((ct.shape[0], s.shape[1])) for s in group]
        for k, s in enumerate(group):
            starts[k][rows] = s
    return [np.column_stack([s, delays]) for s in starts]


def _model_functions(module, t, t_min, cp, fit_delay):
    """forward(p), jacobian(p) and evaluate(p) -> both (None where the model has no one-pass
    form) for the engine; with a delay, its column is last in p."""
    if not fit_delay:
        evaluate = (lambda p: module.forward_jacobian(p, t_min, cp)) if hasattr(module, "forward_jacobian") else None
        return (lambda p: module.forward(p, t_min, cp)), (lambda p: module.jacobian(p, t_min, cp)), evaluate

    def forward(p):
        return module.forward(p[:, :-1], t_min, shift(cp, t, p[:, -1]))

    def jacobian(p):
        params, delay = p[:, :-1], p[:, -1]
        jac = np.empty((p.shape[0], t.size, p.shape[1]))
        jac[..., :-1] = module.jacobian(params, t_min, shift(cp, t, delay))
        jac[..., -1] = module.forward(params, t_min, shift_derivative(cp, t, delay))
        return jac
    return forward, jacobian, None


def _ranked_starts(starts, forward, y, keep):
    """Per voxel, the ``keep`` candidate starts with the smallest residuals, best first."""
    if len(starts) <= 1 or keep is None or keep >= len(starts):
        return starts
    with np.errstate(all="ignore"):
        costs = np.stack([np.sum((forward(s) - y) ** 2, axis=1) for s in starts])
    order = np.argsort(np.where(np.isfinite(costs), costs, np.inf), axis=0, kind="stable")
    stacked = np.stack(starts)
    columns = np.arange(y.shape[0])
    return [stacked[order[r], columns] for r in range(min(keep, len(starts)))]


def _fit_rows(module, y, t, t_min, cp, lower, upper, fit_delay, delay_bounds_s, delay_step_s, max_iter, xtol, ftol,
              n_starts):
    if not fit_delay and module.NAME in _PROJECTED_MODELS:
        # Variable projection (tofts_projection.py) for the voxels whose optimum is inside the
        # bounds; the bounded engine below for the others.
        best = tofts_projection.fit(y, t_min, cp, lower, upper, max_iter=max_iter, ftol=ftol)
        refit = np.flatnonzero(best.pop("refit"))
        if refit.size:
            bounded = _fit_rows_bounded(module, y[refit], t, t_min, cp, lower, upper, False, delay_bounds_s,
                                        delay_step_s, max_iter, xtol, ftol, n_starts)
            for key in best:
                best[key][refit] = bounded[key]
        return best
    return _fit_rows_bounded(module, y, t, t_min, cp, lower, upper, fit_delay, delay_bounds_s, delay_step_s,
                             max_iter, xtol, ftol, n_starts)


def _fit_rows_bounded(module, y, t, t_min, cp, lower, upper, fit_delay, delay_bounds_s, delay_step_s, max_iter,
                      xtol, ftol, n_starts):
    if fit_delay:
        delays = _grid_delays(module, y, t, t_min, cp, delay_bounds_s, delay_step_s)
        starts = _starts_for_delays(module, y, t, t_min, cp, delays)
        lower = np.append(lower, delay_bounds_s[0])
        upper = np.append(upper, delay_bounds_s[1])
    else:
        starts = _starts(module, y, t_min, cp)
    forward, jacobian, evaluate = _model_functions(module, t, t_min, cp, fit_delay)

    def run(p0, rows):
        return levenberg_marquardt.fit(forward, p0[rows], y[rows], lower, upper, jacobian=jacobian,
                                       max_iter=max_iter, xtol=xtol, ftol=ftol, chunk_size=max(rows.size, 1),
                                       evaluate=evaluate)

    everyone = np.arange(y.shape[0])
    auto = n_starts is None and hasattr(module, "linear_start") and len(starts) > 1
    # Two-compartment fits have local minima: fit from the best few starts, keep the lowest RSS.
    # With a linear start ("auto"), only the best-ranked start is fitted for every voxel, and the
    # runner-up only where that fit failed or stopped on a bound.
    ranked = _ranked_starts(starts, forward, y, 2 if auto else n_starts)
    best = run(ranked[0], everyone)
    for rank, p0 in enumerate(ranked[1:], 1):
        rows = np.flatnonzero(best["status"] != fit_status.OK) if auto else everyone
        if rows.size == 0:
            continue
        trial = run(p0, rows)
        best_rmse = np.where(np.isfinite(best["rmse"][rows]), best["rmse"][rows], np.inf)
        improved = np.isfinite(trial["rmse"]) & (trial["rmse"] < best_rmse)
        for key in best:
            best[key][rows[improved]] = trial[key][improved]
    return best


def _bounds(module, model, bounds):
    lower = np.array(module.LOWER, dtype=float)
    upper = np.array(module.UPPER, dtype=float)
    for name, pair in (bounds or {}).items():
        if name not in module.PARAMETERS:
            raise InputError(f"bounds: model '{model}' has no parameter '{name}' "
                             f"(parameters: {', '.join(module.PARAMETERS)})")
        lo, hi = (float(v) for v in pair)
        if not lo <= hi:
            raise InputError(f"bounds: '{name}' lower bound {lo} exceeds upper bound {hi}")
        index = module.PARAMETERS.index(name)
        lower[index], upper[index] = lo, hi
    return lower, upper


def fit(model, ct_mM, t_s, cp_mM, fit_delay=False, mask=None, bounds=None, delay_bounds_s=DEFAULT_DELAY_BOUNDS_S,
        delay_step_s=0.5, max_iter=100, xtol=1e-8, ftol=FTOL, n_starts=None, chunk_size=4096, threads=None,
        progress=None):
    """Fit ``model`` to every curve of ``ct_mM`` (..., T) in mM.

    ``t_s`` frame times in s (uneven allowed); ``cp_mM`` plasma AIF on the same grid;
    ``mask`` bool over the leading dims (outside: status MASKED, NaN); ``bounds``
    {parameter: (lower, upper)} overrides; ``delay_bounds_s``/``delay_step_s`` the delay
    search range and grid step when ``fit_delay``; ``chunk_size`` voxels per chunk (bounds
    memory); ``n_starts`` how many of the two-compartment models' candidate starts (ranked
    by their residual) are each fitted, the best result kept (default: all for the 2CUM; for
    the 2CXM, whose own linear fit adds a start, the best one, and the runner-up only for
    voxels whose fit failed or stopped on a bound); ``threads``
    chunks fitted at once (default 1: threads did not
    scale, see DEFAULT_THREADS); ``progress(fraction, message)`` (called
    from the calling thread; it may raise Cancelled).

    Returns arrays over the leading dims: the model's parameters and derived ones (kep;
    PS for Patlak; Ktrans and E for the two-compartment models), "delay_s" when fitted,
    "se_<parameter>", "rmse" (mM), "r2" and "status".
    """
    module = model_module(model)
    ct = np.asarray(ct_mM)
    if not np.issubdtype(ct.dtype, np.floating):
        ct = ct.astype(float)
    if ct.ndim < 1:
        raise InputError("ct_mM: expected an array shaped (..., T)")
    t, cp = check_grid(t_s, cp_mM, ct.shape[-1])
    if fit_delay:
        delay_bounds_s = tuple(float(v) for v in delay_bounds_s)
        if len(delay_bounds_s) != 2 or not delay_bounds_s[0] <= delay_bounds_s[1]:
            raise InputError(f"delay_bounds_s: expected (lower, upper) in s, got {delay_bounds_s}")
        if not delay_step_s > 0:
            raise InputError(f"delay_step_s: must be positive, got {delay_step_s}")
    lower, upper = _bounds(module, model, bounds)
    lead = ct.shape[:-1]
    flat = ct.reshape(-1, t.size)        # a view for a C-ordered series: the input is never copied whole
    selected = np.ones(flat.shape[0], bool) if mask is None else np.asarray(mask, bool).reshape(-1)
    if selected.size != flat.shape[0]:
        raise InputError(f"mask: shape {np.shape(mask)} does not match the voxel shape {lead}")
    finite = np.empty(flat.shape[0], bool)
    for start in range(0, flat.shape[0], 65536):
        finite[start:start + 65536] = np.all(np.isfinite(flat[start:start + 65536]), axis=1)
    rows = np.flatnonzero(selected & finite)
    names = list(module.PARAMETERS) + (["delay_s"] if fit_delay else [])

    n = flat.shape[0]
    results = {name: np.full(n, np.nan) for name in names}
    results.update({f"se_{name}": np.full(n, np.nan) for name in names})
    results.update({"rmse": np.full(n, np.nan), "r2": np.full(n, np.nan)})
    status = np.full(n, fit_status.MASKED, fit_status.DTYPE)
    status[selected & ~finite] = fit_status.NO_SIGNAL

    t_min = (t - t[0]) / 60.0           # rates are per minute inside the models
    # Single-threaded unless asked: the frame-by-frame recursion and the LM iterations issue many
    # small numpy (and BLAS daxpy) calls whose Python side holds the GIL, so 2 threads measured
    # 0.2-0.9x of one for every model but Patlak (1.2-2.0x) on a shared 2-core machine (issue 19;
    # Testing/benchmarks/benchmark_peers.py prints the scaling of every whole-volume fit).
    threads = DEFAULT_THREADS if threads is None else max(1, int(threads))
    size = int(min(max(int(chunk_size), 1), max(256, -(-rows.size // threads))))
    chunks = [rows[start:start + size] for start in range(0, rows.size, size)]

    def fit_chunk(chunk):
        best = _fit_rows(module, flat[chunk].astype(float), t, t_min, cp, lower, upper, fit_delay, delay_bounds_s,
                         delay_step_s, max_iter, xtol, ftol, n_starts)
        for index, name in enumerate(names):
            results[name][chunk] = best["params"][:, index]
            results[f"se_{name}"][chunk] = best["se"][:, index]
        results["rmse"][chunk] = best["rmse"]
        results["r2"][chunk] = best["r2"]
        status[chunk] = best["status"]
        return chunk.size

    done = 0
    report(progress, 0.0, f"{model}: {rows.size} voxels")
    if len(chunks) > 1 and threads > 1:
        # numpy releases the GIL in its kernels, so chunks run on all cores; progress is
        # reported from this (the caller's) thread only, which GUI callbacks need.
        pool = ThreadPoolExecutor(max_workers=threads)
        futures = [pool.submit(fit_chunk, chunk) for chunk in chunks]
        try:
            for future in as_completed(futures):
                done += future.result()
                report(progress, done / max(rows.size, 1), f"{model}: {done} of {rows.size} voxels")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for chunk in chunks:
            done += fit_chunk(chunk)
            report(progress, done / max(rows.size, 1), f"{model}: {done} of {rows.size} voxels")

    params = {name: results[name] for name in module.PARAMETERS}
    for name, values in module.derived(params).items():
        results.setdefault(name, values)
    out = {name: values.reshape(lead) for name, values in results.items()}
    out["status"] = status.reshape(lead)
    return out
