"""R2/T2 from a multi-echo spin echo (CPMG) with stimulated echoes modelled: the EPG fit.

Per voxel, S0, R2 and the refocusing angle alpha are fitted to S_k = S0 x EPG_k(R2, alpha; ESP, T1)
(epg.py), the approach of Lebel & Wilman (MRM 2010, doi:10.1002/mrm.22322) and Prasloski et al.
(MRM 2012, doi:10.1002/mrm.23157) for a single T2 component. Fit rule (module README):

- echoes used: the leading run above the noise floor, as for R2* (noise_floor.py); at least 4
  (three parameters), else NO_SIGNAL;
- echo times must be k x ESP for consecutive k (ESP = the echo spacing; the first echo may be
  echo 2 or later, e.g. with ``skip_first_echo``), else an error naming the echo times;
- start: the best of a grid of EPG trains (alpha 90, 100 ... 170, 176 deg x 48 R2 values, geometric
  over the R2 bounds) by the normalised correlation with the data, S0 by linear least squares;
  why a grid: the cost has a long, curved valley between alpha and R2 (a low angle and a long T2
  both raise the late echoes), and a start from the mono-exponential fit lands on the wrong side
  for low angles;
- refinement: the shared batched, bounded Levenberg-Marquardt engine on (S0, R2, alpha), analytic
  derivative in S0 and forward differences in R2 and alpha; the echo train is symmetric about
  alpha = 180 deg (a pulse of 360 - alpha gives the same echoes), so alpha is fitted in
  [low, 360 - low] and reported folded into [low, 180]: an ideal 180 deg pulse is an interior
  point of the fit, not a bound; only alpha at the low bound (default 90) is HIT_BOUND;
- bounds: S0 >= 0, R2 in ``r2_bounds_per_s`` (as R2*: default [0, 2000] 1/s);
- stop and statuses: those of the engine (relative cost change 1e-10, step 1e-8, 50 iterations).

T1 (default 1 s) is assumed, not fitted: it enters through the stimulated-echo pathways only and
moves T2 weakly (README).
"""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt as lm
from TMEMonitorLib.fitting import status as st

from . import loglinear
from .epg import DEFAULT_T1_S, echo_train
from .voxel_fit import prepared, run_chunks, voxel_chunks

DEFAULT_ANGLE_BOUNDS_DEG = (90.0, 180.0)
MIN_ECHOES_EPG = 4
_CHUNK = 8192             # voxels per chunk: larger ones cost less Python overhead per voxel (measured 4k-32k)
_GRID_ANGLES = 10
_GRID_RATES = 48


def cpmg_timing(te, rtol=1e-3):
    """(ESP (s), index of the first given echo in the train, 1-based) from echo times k x ESP."""
    steps = np.diff(te)
    esp = float(np.mean(steps))
    first = int(round(te[0] / esp)) if esp > 0 else 0
    if esp <= 0 or np.any(np.abs(steps - esp) > rtol * esp) or first < 1 or abs(te[0] - first * esp) > rtol * esp:
        raise InputError("echo times: the EPG (stimulated-echo) model needs a CPMG train with echoes at k x the echo "
                         f"spacing; got {', '.join(f'{t * 1e3:g}' for t in te)} ms")
    return esp, first


def checked_cpmg_echo_times(echo_times_s, skip_first_echo=False, what="echo times"):
    """(ESP, first echo index) of the echoes the EPG fit will use; InputError naming ``what`` otherwise."""
    te = np.atleast_1d(np.asarray(echo_times_s, dtype=float))[1 if skip_first_echo else 0:]
    if te.size < MIN_ECHOES_EPG:
        raise InputError(f"{what}: {te.size} echoes{' after leaving out echo 1' if skip_first_echo else ''}; the EPG "
                         f"model (S0, T2, refocusing angle) needs at least {MIN_ECHOES_EPG}")
    try:
        return cpmg_timing(te)
    except InputError as error:
        raise InputError(f"{what}: {str(error).split(': ', 1)[1]}") from None


def _train(r2, angle, esp, first, n_used, t1):
    """The model's echoes first .. first + n_used - 1 (n, n_used), unit S0."""
    return echo_train(r2, angle, esp, first + n_used - 1, t1)[:, first - 1:]


def _start(y, esp, first, t1, lo, hi, angle_lo):
    """(S0, R2, alpha) starts (n, 3) from the grid entry best correlated with ``y`` (n, k)."""
    k = y.shape[1]
    # Not 180 itself: the echoes are even in (alpha - 180), so 180 is a stationary point in alpha
    # that the engine would not leave; 176 deg rolls to either side (folded afterwards).
    angles = np.append(np.linspace(angle_lo, 180.0, _GRID_ANGLES)[:-1], 176.0)
    rates = np.geomspace(max(lo, 0.5), hi, _GRID_RATES)
    grid_angle, grid_rate = (g.ravel() for g in np.meshgrid(angles, rates, indexing="ij"))
    curves = _train(grid_rate, grid_angle, esp, first, k, t1)                       # (G, k)
    norms = np.sqrt(np.einsum("gk,gk->g", curves, curves))
    unit = curves / norms[:, None]
    best = np.argmax(y @ unit.T, axis=1)                                           # S0 > 0: largest projection
    s0 = np.einsum("nk,nk->n", y, unit[best]) / norms[best]
    return np.stack([np.maximum(s0, 0.0), grid_rate[best], grid_angle[best]], axis=1)


def _fit_group(y, esp, first, t1, lo, hi, angle_lo):
    """LM fit of rows ``y`` (n, k) that all use their first k echoes: the engine's result dict."""
    k = y.shape[1]
    angle_hi = 360.0 - angle_lo

    def evaluate(p):
        s0, r2, angle = p[:, 0], p[:, 1], p[:, 2]
        h_r = 1e-6 * np.maximum(np.abs(r2), 1.0)
        h_r = np.where(r2 + h_r > hi, -h_r, h_r)
        h_a = np.where(angle + 1e-5 > angle_hi, -1e-5, 1e-5)
        n = p.shape[0]
        trains = _train(np.concatenate([r2, r2 + h_r, r2]), np.concatenate([angle, angle, angle + h_a]),
                        esp, first, k, t1)
        base, d_r, d_a = trains[:n], trains[n:2 * n], trains[2 * n:]
        jac = np.stack([base, s0[:, None] * (d_r - base) / h_r[:, None],
                        s0[:, None] * (d_a - base) / h_a[:, None]], axis=-1)
        return s0[:, None] * base, jac

    def model(p):
        return p[:, :1] * _train(p[:, 1], p[:, 2], esp, first, k, t1)

    p0 = _start(y, esp, first, t1, lo, hi, angle_lo)
    return lm.fit(model, p0, y, [0.0, lo, angle_lo], [np.inf, hi, angle_hi], evaluate=evaluate, chunk_size=y.shape[0])


def fit_r2_epg(signal, echo_times_s, mask=None, noise_sigma="auto", noise_floor_snr=3.0, r2_bounds_per_s=(0.0, 2000.0),
               min_echoes_used=MIN_ECHOES_EPG, t1_s=DEFAULT_T1_S, angle_bounds_deg=DEFAULT_ANGLE_BOUNDS_DEG,
               progress=None, chunk_size=_CHUNK, threads=None):
    """EPG fit of magnitudes ``signal`` (..., n_echoes) of a CPMG train (see the module docstring).

    Returns a dict over the leading dims: "R2" (1/s), "T2" (s), "S0", "refocusing_angle_deg",
    "r2", "rmse", "se_R2" (1/s), "n_echoes_used", "status", and "noise_sigma",
    "noise_sigma_source", "t1_assumed_s".
    """
    lo, hi = (float(v) for v in r2_bounds_per_s)
    if not 0.0 <= lo < hi:
        raise InputError(f"r2_bounds_per_s: expected (low, high) with 0 <= low < high, got {r2_bounds_per_s!r}")
    angle_lo, angle_top = (float(v) for v in angle_bounds_deg)
    if not (0.0 < angle_lo < 180.0 and angle_top == 180.0):
        raise InputError(f"angle_bounds_deg: expected (low, 180) with 0 < low < 180 deg, got {angle_bounds_deg!r}")
    if not float(t1_s) > 0:
        raise InputError(f"t1_s: {t1_s} s must be positive")
    min_used = max(int(min_echoes_used), MIN_ECHOES_EPG)
    data = prepared(signal, echo_times_s, mask, noise_sigma, noise_floor_snr)
    te, flat, lead, selected, n_vox, floor = (data[k] for k in ("te", "flat", "lead", "selected", "n_vox", "floor"))
    esp, first = checked_cpmg_echo_times(te)
    names = ("R2", "S0", "refocusing_angle_deg", "r2", "rmse", "se_R2")
    out = {name: np.full(n_vox, np.nan) for name in names}
    out["n_echoes_used"] = np.zeros(n_vox, np.int16)
    out["status"] = np.full(n_vox, st.MASKED, st.DTYPE)

    def fit_chunk(idx):
        threshold = 0.0 if floor is None else (floor[idx] if floor.ndim else float(floor))
        y_t = np.array(flat[idx].T, dtype=float, order="C")
        chunk = loglinear.Chunk(y_t, threshold)
        n_used = chunk.n_used
        enough = n_used >= min_used
        part = {name: np.full(n_used.size, np.nan) for name in names}
        state = np.full(n_used.size, st.NO_SIGNAL, st.DTYPE)
        for k in np.unique(n_used[enough]):
            rows = np.flatnonzero(enough & (n_used == k))
            result = _fit_group(np.ascontiguousarray(y_t[:k, rows].T), esp, first, float(t1_s), lo, hi, angle_lo)
            params = result["params"]
            part["S0"][rows], part["R2"][rows] = params[:, 0], params[:, 1]
            part["refocusing_angle_deg"][rows] = np.where(params[:, 2] > 180.0, 360.0 - params[:, 2], params[:, 2])
            part["r2"][rows], part["rmse"][rows], part["se_R2"][rows] = result["r2"], result["rmse"], result["se"][:, 1]
            state[rows] = result["status"]
        for name, values in part.items():
            out[name][idx] = values
        out["n_echoes_used"][idx] = n_used
        out["status"][idx] = state
        return n_used.size

    run_chunks(fit_chunk, voxel_chunks(selected, chunk_size, threads), threads, progress, "R2 fit (EPG)")
    with np.errstate(divide="ignore", invalid="ignore"):
        t2 = np.where(out["R2"] > 0, 1.0 / out["R2"], np.nan)
    result = {name: values.reshape(lead) for name, values in out.items()}
    result["T2"] = t2.reshape(lead)
    result["noise_sigma"], result["noise_sigma_source"] = data["noise_sigma"], data["noise_sigma_source"]
    result["t1_assumed_s"] = float(t1_s)
    return result
