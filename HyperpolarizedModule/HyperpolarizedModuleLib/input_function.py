"""The input-function alternative to the inputless fit: pyruvate and lactate fitted together, the
pyruvate delivered by a modelled injection (boxcar or gamma-variate arrival).

Boxcar (rate R from arrival t0 for a duration d; Larson et al., MRM 2013, doi:10.1002/mrm.24645 "boxcar
input"): each frame interval is split at the boxcar edges and each piece is solved exactly
(precursor_product.step). Gamma variate R ((t - t0)/beta)^alpha exp(-(t - t0)/beta) (alpha fixed):
each interval is split in ``GAMMA_SUBSTEPS`` pieces, each with the exact mean of the input over it
(a piecewise-constant approximation of the input, not ODE stepping of the model).
Fitted: kPL, R, t0 (and d or beta); starting pyruvate and lactate Mz 0; R1P, R1L fixed.
"""
import numpy as np
from scipy import special

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt
from TMEMonitorLib.fitting import quality

from . import flip_angles, precursor_product
from .kinetics import KPL_BOUNDS, _intervals, _real_curves

SHAPES = ("boxcar", "gamma")
GAMMA_ALPHA = 2.0
GAMMA_SUBSTEPS = 8
MULTI_START_KPL = (0.02, 0.1, 0.3)      # 1/s


def _gamma_cumulative(t, t0, beta):
    x = np.clip((t - t0) / beta, 0.0, None)
    return beta * special.gamma(GAMMA_ALPHA + 1) * special.gammainc(GAMMA_ALPHA + 1, x)


class InputModel:
    def __init__(self, shape, dt, p_scale, p_mz, l_scale, l_mz, r1p, r1l):
        self.shape, self.dt = shape, dt
        self.p_scale, self.p_mz, self.l_scale, self.l_mz = p_scale, p_mz, l_scale, l_mz
        self.r1p, self.r1l = r1p, r1l
        self.starts = np.concatenate([[0.0], np.cumsum(dt)])[:-1]

    def trajectories(self, params):
        kpl, rate, t0, width = (params[:, i] for i in range(4))
        n, n_frames = params.shape[0], self.dt.size + 1
        a = self.r1p + kpl
        r1l = np.full(n, self.r1l)
        p = np.zeros((n, n_frames))
        lac = np.zeros((n, n_frames))
        for t in range(n_frames - 1):
            pp, lp = p[:, t] * self.p_mz[t], lac[:, t] * self.l_mz[t]
            start, h = self.starts[t], self.dt[t]
            if self.shape == "boxcar":
                on = np.clip(t0 - start, 0.0, h)
                off = np.clip(t0 + width - start, 0.0, h)
                pieces = ((on, 0.0), (off - on, rate), (h - off, 0.0))
            else:
                edges = start + h * np.arange(GAMMA_SUBSTEPS + 1) / GAMMA_SUBSTEPS
                sub = h / GAMMA_SUBSTEPS
                pieces = [(np.full(n, sub), rate * (_gamma_cumulative(edges[s + 1], t0, width)
                                                    - _gamma_cumulative(edges[s], t0, width)) / sub)
                          for s in range(GAMMA_SUBSTEPS)]
            for length, level in pieces:
                pp, (lp,) = precursor_product.step(pp, [lp], a, [kpl], [r1l], length, level / a)
            p[:, t + 1], lac[:, t + 1] = pp, lp
        return p, lac

    def __call__(self, params):
        p, lac = self.trajectories(params)
        return np.concatenate([p * self.p_scale, lac * self.l_scale], axis=1)


def fit_kpl_with_input(pyruvate, lactate, tr_s, flip_pyruvate_deg, flip_lactate_deg, r1_pyruvate=1 / 30,
                       r1_lactate=1 / 25, input_shape="boxcar", mask=None, progress=None):
    """Fit pyruvate and lactate (..., n_frames) with a modelled input; dict of maps over the leading dims:
    "kPL" (1/s), "input_rate" (Mz/s), "arrival_s", "duration_s" (boxcar) or "gamma_beta_s", "se_kPL",
    "r2" (both curves), "status", "pyruvate_fit", "lactate_fit"."""
    if input_shape not in SHAPES:
        raise InputError(f"input_shape '{input_shape}' is not one of {', '.join(SHAPES)}")
    pyr, _, kind_p = _real_curves(pyruvate, "pyruvate")
    lac, _, kind_l = _real_curves(lactate, "lactate", pyr.shape[-1])
    n_frames = pyr.shape[-1]
    dt = _intervals(tr_s, n_frames)
    p_scale, p_mz = flip_angles.scaling_factors(flip_angles.checked_schedule(flip_pyruvate_deg, n_frames,
                                                                             "flip_pyruvate_deg"))
    l_scale, l_mz = flip_angles.scaling_factors(flip_angles.checked_schedule(flip_lactate_deg, n_frames,
                                                                             "flip_lactate_deg"))
    lead = pyr.shape[:-1]
    n = int(np.prod(lead)) if lead else 1
    pf, lf = pyr.reshape(n, n_frames), lac.reshape(n, n_frames)
    y = np.concatenate([pf, lf], axis=1)
    total = float(np.sum(dt))
    peak_index = np.argmax(pf, axis=1)
    times = np.concatenate([[0.0], np.cumsum(dt)])
    mean_dt = float(np.mean(dt))
    width0 = 3.0 * mean_dt if input_shape == "boxcar" else mean_dt
    t0 = np.clip(times[peak_index] - (width0 if input_shape == "boxcar" else 2 * mean_dt), 0.0, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        informative = flip_angles.informative(p_scale)
        peak_mz = np.max(np.where(informative, pf / np.where(informative, p_scale, 1.0), 0.0), axis=1)
    rate0 = np.where(peak_mz > 0, peak_mz / width0, 1.0)
    p0 = np.stack([np.full(n, 0.02), rate0, t0, np.full(n, width0)], axis=1)
    lower = np.array([KPL_BOUNDS[0], 0.0, -total, 0.1 * mean_dt])
    upper = np.array([KPL_BOUNDS[1], np.inf, total, total])
    model = InputModel(input_shape, dt, p_scale, p_mz, l_scale, l_mz, r1_pyruvate, r1_lactate)

    def batched(params, rows):
        return model(params)

    result = None
    for kpl0 in MULTI_START_KPL:          # the boxcar edges make local minima: keep the best of a few starts
        p0[:, 0] = kpl0
        trial = levenberg_marquardt.fit(batched, p0, y, lower, upper, args=(np.arange(n),), max_iter=200,
                                        xtol=1e-12, ftol=1e-15, progress=progress)
        if result is None:
            result = trial
            continue
        better = np.nan_to_num(trial["rmse"], nan=np.inf) < np.nan_to_num(result["rmse"], nan=np.inf)
        for key in result:
            result[key][better] = trial[key][better]
    if mask is not None:
        from TMEMonitorLib.fitting import status as st
        outside = ~np.asarray(mask, bool).ravel()
        result["params"][outside] = np.nan
        result["status"][outside] = st.MASKED
    params = result["params"]
    good = np.all(np.isfinite(params), axis=1)
    p_fit, l_fit = model.trajectories(np.where(good[:, None], params, 1.0))
    fit_curves = np.concatenate([p_fit * p_scale, l_fit * l_scale], axis=1)
    fit_curves[~good] = np.nan
    out = {"kPL": params[:, 0], "input_rate": params[:, 1], "arrival_s": params[:, 2],
           ("duration_s" if input_shape == "boxcar" else "gamma_beta_s"): params[:, 3], "se_kPL": result["se"][:, 0],
           "r2": np.where(good, quality.r2(y, np.nan_to_num(fit_curves)), np.nan), "status": result["status"]}
    out = {k: v.reshape(lead) for k, v in out.items()}
    out["pyruvate_fit"] = (fit_curves[:, :n_frames]).reshape(lead + (n_frames,))
    out["lactate_fit"] = (fit_curves[:, n_frames:]).reshape(lead + (n_frames,))
    return out
