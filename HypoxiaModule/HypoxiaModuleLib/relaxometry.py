"""Mono-exponential relaxometry: R2*/T2* from multi-echo gradient echo, R2/T2 from multi-echo spin
echo, and R2' = R2* - R2.

Model S(TE) = S0 exp(-R2* TE) [x F(TE), the field-gradient factor, when one is given].
Methods (``method``):
- "loglinear": weighted linear least squares on ln S with weights S^2 (the inverse variance of
  ln S for Gaussian noise on S; Veraart et al., NeuroImage 2013, doi:10.1016/j.neuroimage.2013.05.028),
  closed form per voxel; the fast path.
- "nonlinear": least squares on S itself (weights 1) with the shared batched, bounded
  Levenberg-Marquardt engine (TMEMonitorLib.fitting.levenberg_marquardt) and an analytic
  Jacobian, started from the log-linear estimate.
- "arlo": auto-regression on linear operations (arlo.py; equally spaced echoes only).
The closed forms, the echoes used and the quality measures run on chunks laid out echo-major
(loglinear.py: its numerics, the float32 logarithm among them, are described there).

Fit rule (the same for every method, written out in the module README):
- echoes used: the leading run of echoes whose magnitude is finite, > 0 and above
  ``noise_floor_snr`` x sigma (noise_floor.py), also ending where the field-gradient factor
  falls below field_gradient.MIN_FACTOR; voxels with fewer than ``min_echoes_used`` (2; ARLO 3)
  get status NO_SIGNAL and NaN;
- bounds: S0 in [0, inf), R2* in ``r2star_bounds_per_s`` (default [0, 2000] 1/s, i.e.
  T2* >= 0.5 ms). A log-linear / ARLO estimate outside is clipped to the bound; a nonlinear fit
  stops on it (projected LM). Either way the voxel's status is HIT_BOUND and its value is the
  bound; T2* = 1/R2* is NaN where R2* = 0;
- nonlinear start: the log-linear estimate clipped into the bounds; where that is not finite,
  R2* = 50 1/s and S0 = the first echo x exp(50 TE1);
- nonlinear stop: relative cost change < 1e-10, relative step < 1e-8 or 50 iterations
  (not converged: status FAILED, the best estimate kept).
"""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt as lm
from TMEMonitorLib.fitting import status as st

from . import loglinear, noise_floor
from .arlo import arlo_t2star
from .echo_times import echo_spacing
from .field_gradient import MIN_FACTOR
from .voxel_fit import DEFAULT_THREADS, prepared, run_chunks, voxel_chunks  # noqa: F401  (DEFAULT_THREADS: API)

METHODS = ("nonlinear", "loglinear", "arlo")
DEFAULT_R2STAR_BOUNDS_PER_S = (0.0, 2000.0)
FALLBACK_R2STAR_PER_S = 50.0
MIN_ECHOES_USED = 2
BOUND_TOLERANCE = 1e-9          # closed forms: within this fraction of the bound span = on the bound
# Voxels per chunk: the echo-major temporaries (a few (E, n) float64 arrays) and the LM engine's
# (n, E, 2) Jacobians stay near a core's cache; measured best among 2k-32k on this project's 2-core
# benchmark machine (8k: log-linear 4.8 M/s vs 1.4 M/s at 32k; NLLS 180-200 k/s vs 140 k/s at 32k).
_CHUNK = {"loglinear": 8192, "arlo": 8192, "nonlinear": 8192}


def _model(te):
    def model(p, *factor):
        f = p[:, :1] * np.exp(-p[:, 1:2] * te)
        return f * factor[0] if factor else f
    return model


def _jacobian(te):
    def jacobian(p, *factor):
        decay = np.exp(-p[:, 1:2] * te)
        if factor:
            decay = decay * factor[0]
        return np.stack([decay, -p[:, :1] * te * decay], axis=-1)
    return jacobian


def _clip_to_bounds(r2star, lo, hi):
    """(clipped R2*, on-bound flag) for closed-form estimates: within rounding (1e-9 of the bound
    span) of a bound or beyond it -> the bound (a constant signal gives R2* = 0, not +-1e-14)."""
    tol = BOUND_TOLERANCE * (hi - lo)
    finite = np.isfinite(r2star)
    out_low = finite & (r2star <= lo + tol)
    out_high = finite & (r2star >= hi - tol)
    return np.where(out_low, lo, np.where(out_high, hi, r2star)), out_low | out_high


def _fit_rows(y, te, method, spacing, step, f, threshold, lo, hi, min_used):
    """The fit of one chunk of rows (n, E): a dict of per-row results.

    The closed forms, the echoes used and the quality run echo-major (loglinear.py); the
    nonlinear refinement runs on the shared LM engine, rows grouped by their number of echoes."""
    y_t = np.array(y.T, dtype=float, order="C")
    f_t = None if f is None else np.ascontiguousarray(f.T)
    chunk = loglinear.Chunk(y_t, threshold, f_t, MIN_FACTOR)      # y_t: this chunk's own copy, zeroed where unused
    n_used = chunk.n_used
    enough = n_used >= min_used
    if method == "arlo":
        with np.errstate(divide="ignore", invalid="ignore"):
            r2star = 1.0 / arlo_t2star(chunk.y_fit, spacing, chunk.used)
    else:
        r2star, s0 = loglinear.loglinear(chunk, te)
    r2star, on_bound = _clip_to_bounds(r2star, lo, hi)
    if method == "arlo":
        s0 = loglinear.amplitude(chunk, te, r2star, step)
    ok = enough & np.isfinite(r2star) & np.isfinite(s0)
    state = np.where(ok, np.where(on_bound, st.HIT_BOUND, st.OK), st.FAILED).astype(st.DTYPE)
    se = np.full(y.shape[0], np.nan)
    if method == "nonlinear":
        # Rows grouped by their number of used echoes (a leading run): each group is an
        # unweighted fit on its first k echoes, with no work spent on echoes left out.
        for k in np.unique(n_used[enough]):
            rows = np.flatnonzero(enough & (n_used == k))
            fallback = ~(np.isfinite(r2star[rows]) & np.isfinite(s0[rows]))
            r_start = np.clip(np.where(fallback, FALLBACK_R2STAR_PER_S, r2star[rows]), lo, hi)
            s_start = np.where(fallback, y_t[0, rows] * np.exp(r_start * te[0]), s0[rows])
            p0 = np.stack([np.maximum(s_start, 0.0), r_start], axis=1)
            te_k = te[:k]
            fit_args = () if f is None else (f[rows, :k],)
            y_k = np.ascontiguousarray(y_t[:k, rows].T)
            result = lm.fit(_model(te_k), p0, y_k, [0.0, lo], [np.inf, hi], jacobian=_jacobian(te_k),
                            args=fit_args, chunk_size=rows.size)
            s0[rows], r2star[rows] = result["params"][:, 0], result["params"][:, 1]
            state[rows] = result["status"]
            se[rows] = result["se"][:, 1]
    state[~enough] = st.NO_SIGNAL
    keep = enough & np.isfinite(r2star) & np.isfinite(s0)      # a failed LM keeps its best estimate
    rmse, r2 = loglinear.quality(chunk, te, r2star, s0, step)
    return {"R2star": np.where(keep, r2star, np.nan), "S0": np.where(keep, s0, np.nan),
            "rmse": np.where(keep, rmse, np.nan), "r2": np.where(keep, r2, np.nan), "se_R2star": se,
            "n_echoes_used": n_used, "status": state}


def fit_r2star(signal, echo_times_s, method="nonlinear", mask=None, noise_sigma="auto",
               noise_floor_snr=noise_floor.DEFAULT_SNR_THRESHOLD, r2star_bounds_per_s=DEFAULT_R2STAR_BOUNDS_PER_S,
               gradient_factors=None, min_echoes_used=MIN_ECHOES_USED, progress=None, chunk_size=None,
               threads=None):
    """Fit S0 exp(-R2* TE) to magnitudes ``signal`` (..., n_echoes).

    ``echo_times_s``: (n_echoes,) increasing, distinct, >= 3 (s). ``mask``: bool over the leading
    dims (False -> MASKED). ``noise_sigma``: noise SD in signal units (scalar or over the leading
    dims), "auto" (estimated from background voxels, else no floor) or None (no floor; only
    non-positive samples end the echo run). ``gradient_factors``: optional (..., n_echoes)
    field-gradient factors F(TE) (field_gradient.sinc_factors). ``threads``: chunks fitted in
    parallel (numpy releases the GIL); None: voxel_fit.DEFAULT_THREADS (1: 2 threads did not reach 1.6x here).

    Returns a dict of arrays over the leading dims: "R2star" (1/s), "T2star" (s), "S0" (signal
    units), "r2", "rmse" (on the echoes used), "n_echoes_used", "status" (uint8, fitting.status),
    "se_R2star" (1/s, nonlinear only, NaN otherwise), and the scalars "noise_sigma" and
    "noise_sigma_source".
    """
    if method not in METHODS:
        raise InputError(f"method: '{method}' is not one of {', '.join(METHODS)}")
    lo, hi = (float(v) for v in r2star_bounds_per_s)
    if not 0.0 <= lo < hi:
        raise InputError(f"r2star_bounds_per_s: expected (low, high) with 0 <= low < high, got {r2star_bounds_per_s!r}")
    if int(min_echoes_used) < 2:
        raise InputError(f"min_echoes_used: {min_echoes_used} (a two-parameter fit needs at least 2 echoes)")
    min_used = max(int(min_echoes_used), 3 if method == "arlo" else 2)
    data = prepared(signal, echo_times_s, mask, noise_sigma, noise_floor_snr, gradient_factors)
    te, flat, factors, lead, selected, n_vox = (data[k] for k in ("te", "flat", "factors", "lead", "selected",
                                                                   "n_vox"))
    spacing = echo_spacing(te) if method == "arlo" else None
    step = loglinear.uniform_step(te)
    out = {"R2star": np.full(n_vox, np.nan), "S0": np.full(n_vox, np.nan), "r2": np.full(n_vox, np.nan),
           "rmse": np.full(n_vox, np.nan), "se_R2star": np.full(n_vox, np.nan),
           "n_echoes_used": np.zeros(n_vox, np.int16), "status": np.full(n_vox, st.MASKED, st.DTYPE)}
    chunks = voxel_chunks(selected, _CHUNK[method] if chunk_size is None else chunk_size, threads)
    floor = data["floor"]

    def fit_chunk(idx):
        threshold = 0.0 if floor is None else (floor[idx] if floor.ndim else float(floor))
        f = None if factors is None else factors[idx]
        part = _fit_rows(flat[idx], te, method, spacing, step, f, threshold, lo, hi, min_used)
        for name, values in part.items():
            out[name][idx] = values
        return part["status"].size

    run_chunks(fit_chunk, chunks, threads, progress, f"R2* fit ({method})")
    with np.errstate(divide="ignore", invalid="ignore"):
        t2star = np.where(out["R2star"] > 0, 1.0 / out["R2star"], np.nan)
    result = {name: values.reshape(lead) for name, values in out.items()}
    result["T2star"] = t2star.reshape(lead)
    result["noise_sigma"], result["noise_sigma_source"] = data["noise_sigma"], data["noise_sigma_source"]
    return result


R2_MODELS = ("monoexponential", "epg")


def fit_r2(signal, echo_times_s, method="nonlinear", mask=None, skip_first_echo=False, model="monoexponential",
           **options):
    """R2/T2 from multi-echo spin echo (..., n_echoes).

    ``model="monoexponential"`` (default): the same fit as R2* (``method`` as for fit_r2star). With
    imperfect refocusing the echoes of a CPMG train carry stimulated echoes that bias it (T2 too long);
    ``skip_first_echo`` drops the first echo, the one most affected (then >= 3 echoes must remain).
    ``model="epg"``: the stimulated-echo (extended phase graph) fit of S0, T2 and the refocusing angle
    (r2_epg.fit_r2_epg; ``method`` is not used; options ``t1_s`` (1 s assumed) and ``angle_bounds_deg``);
    its extra output is "refocusing_angle_deg".
    Returns the fit_r2star dict with "R2" (1/s), "T2" (s) and "se_R2" in place of "R2star", "T2star"
    and "se_R2star".
    """
    if model not in R2_MODELS:
        raise InputError(f"model: '{model}' is not one of {', '.join(R2_MODELS)}")
    s = np.asarray(signal)
    te = np.atleast_1d(np.asarray(echo_times_s, dtype=float))
    if skip_first_echo:
        if s.ndim < 1 or s.shape[-1] != te.size:
            raise InputError(f"signal: last axis does not match the {te.size} echo times")
        s, te = s[..., 1:], te[1:]
    if model == "epg":
        from .r2_epg import fit_r2_epg
        if "r2star_bounds_per_s" in options:
            options["r2_bounds_per_s"] = options.pop("r2star_bounds_per_s")
        return fit_r2_epg(s, te, mask=mask, **options)
    result = fit_r2star(s, te, method=method, mask=mask, **options)
    result["R2"] = result.pop("R2star")
    result["T2"] = result.pop("T2star")
    result["se_R2"] = result.pop("se_R2star")
    return result


def r2_prime(r2star, r2, status_r2star=None, status_r2=None):
    """(R2' = R2* - R2 (1/s), status): the worse of the two statuses; NaN where either is missing.

    R2' (reversible dephasing, from deoxyhaemoglobin among other sources) is physically >= 0;
    a negative value from noise is kept (not clipped) so that region means stay unbiased.
    """
    r2star = np.asarray(r2star, dtype=float)
    r2 = np.asarray(r2, dtype=float)
    if r2star.shape != r2.shape:
        raise InputError(f"R2' : the R2* map {r2star.shape} and the R2 map {r2.shape} are on different grids")
    value = r2star - r2
    status = np.where(np.isfinite(value), st.OK, st.NO_SIGNAL).astype(st.DTYPE)
    # severity, indexed by status code: OK 0 < HIT_BOUND 1 < FAILED 2 < NO_SIGNAL 3 < MASKED 4
    severity = np.zeros(256, np.int8)
    severity[[st.OK, st.HIT_BOUND, st.FAILED, st.NO_SIGNAL, st.MASKED]] = [0, 1, 2, 3, 4]
    for other in (status_r2star, status_r2):
        if other is not None:
            other = np.asarray(other, st.DTYPE)
            status = np.where(severity[other] > severity[status], other, status).astype(st.DTYPE)
    return np.where(np.isfinite(value), value, np.nan), status
