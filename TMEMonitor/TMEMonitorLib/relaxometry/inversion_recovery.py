"""T1 mapping from inversion-recovery (IR) data, magnitude or phase-sensitive.

Signal model (any IR readout with a long enough recovery between inversions):
    S(TI) = a + b exp(-TI / T1)
with a > 0 the fully relaxed signal and b < 0 (b = -2a for a perfect inversion with full recovery);
``inversion_efficiency`` = -b / a (2 perfect, 1 a 90-degree "inversion"; lower with an imperfect
pulse or TR not >> T1). Magnitude images measure |S(TI)|: the sign before the null point is lost.

Magnitude data: reduced-dimension nonlinear least squares with polarity restoration (RD-NLS-PR,
Barral et al., MRM 2010;64:1057-1067, doi:10.1002/mrm.22497). For a fixed T1 the model is linear
in (a, b), so (a, b) are closed form and only T1 is searched; each candidate null position k
(signs of the first k inversion times flipped, k = 0..n) is tried and the best (T1, k) kept. The
search runs for all voxels at once: a log-spaced T1 grid (the residual for every k from cumulative
sums), then golden-section refinement of log T1 with the best k fixed. Complex data are rotated by
the phase of the longest TI (positive magnetisation) and fitted as real, signed data without a
polarity search; real signed (phase-corrected) data are fitted likewise with ``signed=True``.

Fit rule (for reproduction): T1 is searched in ``t1_bounds_s`` (default 0.01-20 s) on a 64-point
log grid, refined by 40 golden-section steps inside the neighbouring grid points (with the best null
position; where another null position fits better at the refined T1, refined again with it and the
lower residual kept); a T1 within
1e-6 (relative) of a bound is flagged HIT_BOUND and kept; a fit with a <= 0 or b >= 0 (no
recovery) is NOT_EXPLAINED and gives NaN.
"""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st
from TMEMonitorLib.fitting.golden_section import golden_section_minimise
from TMEMonitorLib.progress import report

DEFAULT_T1_BOUNDS_S = (0.01, 20.0)
MIN_INVERSION_TIMES = 3
_GRID_POINTS = 64
_GOLDEN_ITERATIONS = 40
_CHUNK = 100000


def checked_inversion_times(inversion_times_s, n_frames, what="inversion times"):
    """The inversion times as a float array (s); InputError unless there are >= 3, finite,
    non-negative, strictly increasing, one per frame."""
    ti = np.atleast_1d(np.asarray(inversion_times_s, dtype=float)).ravel()
    if ti.size != n_frames:
        raise InputError(f"{what}: {ti.size} value(s) for {n_frames} image(s); give one per image")
    if ti.size < MIN_INVERSION_TIMES:
        raise InputError(f"{what}: {ti.size} given; a T1 fit needs at least {MIN_INVERSION_TIMES}")
    if not np.all(np.isfinite(ti)) or np.any(ti < 0):
        raise InputError(f"{what}: must be finite and non-negative (s), got {ti.tolist()}")
    if np.any(np.diff(ti) == 0):
        raise InputError(f"{what}: duplicate values {ti.tolist()}; each image needs its own inversion time")
    if np.any(np.diff(ti) < 0):
        raise InputError(f"{what}: not sorted {ti.tolist()}; sort the images by inversion time (not by file name)")
    if ti[-1] > 100.0:
        raise InputError(f"{what}: {ti[-1]:g} s is implausible; are they in ms? Give them in seconds")
    return ti


def _solve(n, se, see, sd, sde):
    """Least-squares (a, b) and the explained sum of squares of d ~ a + b e from the sums
    n, sum e, sum e^2 (scalars or arrays) and sum d, sum d e; a constant fit where e carries no
    information (det ~ 0)."""
    det = n * see - se * se
    good = det > 1e-12 * np.maximum(n * see, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(good, (see * sd - se * sde) / det, sd / n)
        b = np.where(good, (n * sde - se * sd) / det, 0.0)
    explained = a * sd + b * sde
    return a, b, explained


def _grid_search(y, ti, signed, grid):
    """Best grid index and null position k per voxel (k = number of leading sign flips).

    The residual is the data's sum of squares minus the explained part, so the best (T1, k) maximises
    the explained sum of squares (see sd^2 - 2 se sd sde + n sde^2) / det; sd (sum of the sign-restored
    data) does not depend on T1 and is computed once."""
    n_vox, n = y.shape
    best = np.full(n_vox, -np.inf)
    best_g = np.zeros(n_vox, dtype=int)
    best_k = np.zeros(n_vox, dtype=int)
    if signed:
        sd = y.sum(axis=1)[:, None]
    else:
        cum = np.zeros((n_vox, n + 1))
        np.cumsum(y, axis=1, out=cum[:, 1:])
        sd = cum[:, -1:] - 2.0 * cum                    # signs of the first k samples flipped
    sd2 = sd * sd
    cum_e = np.zeros((n_vox, n + 1))
    for g, log_t1 in enumerate(grid):
        e = np.exp(-ti / np.exp(log_t1))
        se, see = e.sum(), float(np.dot(e, e))
        det = n * see - se * se
        if signed:
            sde = (y @ e)[:, None]
        else:
            np.cumsum(y * e, axis=1, out=cum_e[:, 1:])
            sde = cum_e[:, -1:] - 2.0 * cum_e
        if det > 1e-12 * n * see:
            explained = (see * sd2 + sde * (n * sde - 2.0 * se * sd)) / det
        else:
            explained = sd2 / n
        k = np.argmax(explained, axis=1)
        value = np.take_along_axis(explained, k[:, None], axis=1)[:, 0]
        better = value > best
        best[better], best_g[better], best_k[better] = value[better], g, k[better]
    return best_g, best_k


def _fit_fixed_k(y, ti, log_t1, k):
    """(a, b, SSE) per voxel for per-voxel log T1 and null position k."""
    n = y.shape[1]
    sign = np.where(np.arange(n)[None, :] < k[:, None], -1.0, 1.0)
    d = y * sign
    e = np.exp(-ti[None, :] / np.exp(log_t1)[:, None])
    a, b, explained = _solve(float(n), e.sum(axis=1), np.sum(e * e, axis=1), d.sum(axis=1), np.sum(d * e, axis=1))
    return a, b, np.sum(d * d, axis=1) - explained


def _refine(y, ti, k, lo, hi):
    """Golden-section search of log T1 in [lo, hi] per voxel with the null position k fixed."""
    log_t1 = golden_section_minimise(lambda x: _fit_fixed_k(y, ti, x, k)[2], lo, hi, _GOLDEN_ITERATIONS)
    a, b, sse = _fit_fixed_k(y, ti, log_t1, k)
    return log_t1, a, b, sse


def _best_null_position(y, ti, log_t1):
    """The null position k (0..n) with the lowest residual per voxel at per-voxel log T1."""
    n_vox, n = y.shape
    e = np.exp(-ti[None, :] / np.exp(log_t1)[:, None])
    ye = y * e
    zero = np.zeros((n_vox, 1))
    sd = y.sum(axis=1)[:, None] - 2.0 * np.concatenate([zero, np.cumsum(y, axis=1)], axis=1)
    sde = ye.sum(axis=1)[:, None] - 2.0 * np.concatenate([zero, np.cumsum(ye, axis=1)], axis=1)
    _, _, explained = _solve(float(n), e.sum(axis=1)[:, None], np.sum(e * e, axis=1)[:, None], sd, sde)
    return np.argmax(explained, axis=1)


def _fit_chunk(y, ti, signed, t1_lo, t1_hi):
    grid = np.linspace(np.log(t1_lo), np.log(t1_hi), _GRID_POINTS)
    g, k = _grid_search(y, ti, signed, grid)
    lo = grid[np.maximum(g - 1, 0)]
    hi = grid[np.minimum(g + 1, _GRID_POINTS - 1)]
    log_t1, a, b, sse = _refine(y, ti, k, lo, hi)
    if not signed:
        # a sample next to the null may take the wrong sign on the grid: where another null position
        # explains the data better at the refined T1, refine again with it and keep the lower residual
        for _ in range(2):
            k_new = _best_null_position(y, ti, log_t1)
            redo = np.flatnonzero(k_new != k)
            if redo.size == 0:
                break
            result = _refine(y[redo], ti, k_new[redo], lo[redo], hi[redo])
            better = result[3] < sse[redo]
            idx = redo[better]
            log_t1[idx], a[idx], b[idx], sse[idx] = (value[better] for value in result)
            k[idx] = k_new[redo][better]
            if not better.any():
                break
    edge = 1e-6
    at_bound = (log_t1 - np.log(t1_lo) < edge) | (np.log(t1_hi) - log_t1 < edge)
    return np.exp(log_t1), a, b, np.maximum(sse, 0.0), k, at_bound


def _as_fit_data(signal, signed):
    """(real data (..., n), signed flag, note) from magnitude, signed real or complex input."""
    s = np.asarray(signal)
    if np.iscomplexobj(s):
        # phase of the longest TI (magnetisation positive there) taken off every TI: real, signed data
        reference = s[..., -1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            phase = np.where(np.abs(reference) > 0, reference / np.abs(reference), 1.0)
        return np.real(s * np.conj(phase)).astype(float), True, "complex, phased to the longest TI"
    s = s.astype(float)
    if signed:
        return s, True, "real, signed"
    if np.any(s[np.isfinite(s)] < 0):
        raise InputError("signal: negative values in magnitude data; pass signed=True for phase-corrected "
                         "(real) inversion-recovery images")
    return s, False, "magnitude, polarity restored"


def fit_inversion_recovery(signal, inversion_times_s, mask=None, signed=False, t1_bounds_s=DEFAULT_T1_BOUNDS_S,
                           progress=None):
    """Fit T1 to inversion-recovery images shaped (..., n_TI) (the TI axis last).

    ``signal``: magnitude (default; polarity restored), real signed (``signed=True``) or complex
    (phased to the longest TI). ``inversion_times_s``: sorted, distinct, >= 3. ``mask``: boolean over
    the leading dims (False -> MASKED). Returns a dict of arrays over the leading dims: "T1" (s),
    "R1" (1/s), "a", "b" (signal units), "inversion_efficiency" (-b/a), "r2", "rmse", "null_index"
    (number of TIs before the null), "status" (uint8, TMEMonitorLib.fitting.status), and "data" (a note).
    """
    s = np.asarray(signal)
    if s.ndim < 1:
        raise InputError("signal: expected images with the inversion times on the last axis")
    ti = checked_inversion_times(inversion_times_s, s.shape[-1])
    t1_lo, t1_hi = (float(v) for v in t1_bounds_s)
    if not 0 < t1_lo < t1_hi:
        raise InputError(f"t1_bounds_s: expected (low, high) with 0 < low < high, got {t1_bounds_s!r}")
    y_all, signed, note = _as_fit_data(s, signed)
    lead = y_all.shape[:-1]
    flat = y_all.reshape(-1, ti.size)
    n_vox = flat.shape[0]
    if mask is None:
        sel = np.ones(n_vox, bool)
    else:
        mask = np.asarray(mask, bool)
        if mask.shape != lead:
            raise InputError(f"mask: shape {mask.shape} does not match the voxel shape {lead}")
        sel = mask.reshape(-1)
    out = {key: np.full(n_vox, np.nan) for key in ("T1", "a", "b", "r2", "rmse")}
    null_index = np.full(n_vox, -1, dtype=np.int16)
    status = np.full(n_vox, st.MASKED, dtype=st.DTYPE)
    usable = np.all(np.isfinite(flat), axis=1) & (np.sum(np.abs(flat) > 0, axis=1) >= MIN_INVERSION_TIMES)
    status[sel & ~usable] = st.NO_SIGNAL
    todo = np.flatnonzero(sel & usable)
    for start in range(0, todo.size, _CHUNK):
        idx = todo[start:start + _CHUNK]
        y = flat[idx]
        t1, a, b, sse, k, at_bound = _fit_chunk(y, ti, signed, t1_lo, t1_hi)
        model = a[:, None] + b[:, None] * np.exp(-ti[None, :] / t1[:, None])
        residual = y - (model if signed else np.abs(model))
        sse = np.sum(residual * residual, axis=1)
        sst = np.sum((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
        ok = np.isfinite(t1) & np.isfinite(a) & np.isfinite(b)
        recovers = ok & (a > 0) & (b < 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["r2"][idx] = np.where(ok & (sst > 0), 1.0 - sse / sst, np.nan)
        out["rmse"][idx] = np.where(ok, np.sqrt(sse / ti.size), np.nan)
        for key, value in (("T1", t1), ("a", a), ("b", b)):
            out[key][idx] = np.where(recovers, value, np.nan)
        null_index[idx] = np.where(recovers, k, -1)
        status[idx] = np.where(recovers, np.where(at_bound, st.HIT_BOUND, st.OK),
                               np.where(ok, st.NOT_EXPLAINED, st.FAILED))
        report(progress, (start + idx.size) / max(todo.size, 1), "T1 fit (inversion recovery)")
    with np.errstate(divide="ignore", invalid="ignore"):
        efficiency = -out["b"] / out["a"]
        r1 = 1.0 / out["T1"]
    result = {key: value.reshape(lead) for key, value in out.items()}
    result.update({"R1": r1.reshape(lead), "inversion_efficiency": efficiency.reshape(lead),
                   "null_index": null_index.reshape(lead), "status": status.reshape(lead), "data": note})
    return result


def inversion_recovery_signal(a, b, t1_s, inversion_times_s, magnitude=True):
    """|a + b exp(-TI/T1)| (or the signed value) for synthesis and tests; broadcasts over voxels."""
    ti = np.asarray(inversion_times_s, dtype=float)
    value = np.asarray(a, float)[..., None] + np.asarray(b, float)[..., None] * np.exp(
        -ti / np.asarray(t1_s, float)[..., None])
    return np.abs(value) if magnitude else value
