"""ADC, IVIM and kurtosis fits over whole volumes (signal shaped (..., n_b), b in s/mm2).

Every fit returns a dict of arrays over the leading dims with its parameters (diffusion
coefficients in mm2/s, f 0..1, K unitless, S0 in signal units), "rmse", "r2", "status"
(TMEMonitorLib.fitting.status), standard errors "se_<name>" where cheap, and
"n_excluded" (samples left out as clipped, below the noise floor or not positive).
Nonlinear fits use the shared batched engine (TMEMonitorLib.fitting.levenberg_marquardt).
"""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from .b_values import average_directions, check_b_values, sample_weights  # noqa: F401 (average_directions is API)
from .synthesis import ivim_signal, kurtosis_signal

# Default b-range of each model (s/mm2), reported with every result.
DEFAULT_B_RANGES = {"adc": (0.0, None), "ivim": (0.0, None), "kurtosis": (0.0, None)}
# IVIM bounds (normalised S0, f, D, D*) that never clip physiological values (f up to 1).
DEFAULT_IVIM_BOUNDS = {"S0": (0.5, 2.0), "f": (0.0, 1.0), "D": (0.0, 0.005), "Dstar": (0.005, 0.2)}
ADC_BOUNDS = (0.0, 0.01)
KURTOSIS_BOUNDS = {"D": (0.0, 0.005), "K": (0.0, 3.0)}


def _prepare(signal, b_values, b_min, b_max, mask, clip_value, floor, noise_sigma, minimum_distinct=2):
    s, b = check_b_values(signal, b_values, minimum_distinct)
    keep = (b >= (b_min if b_min is not None else -1.0)) & (b <= (b_max if b_max is not None else np.inf))
    if np.unique(np.round(b[keep])).size < minimum_distinct:
        raise InputError(f"b-range [{b_min}, {b_max}] s/mm2 keeps fewer than {minimum_distinct} distinct b-values")
    lead = s.shape[:-1]
    flat = s.reshape(-1, b.size)[:, keep]
    sigma = None
    if noise_sigma is not None:
        sigma = np.broadcast_to(np.asarray(noise_sigma, dtype=float), lead).reshape(-1)
    values, weights, excluded = sample_weights(flat, clip_value, floor, sigma)
    selected = np.ones(flat.shape[0], bool) if mask is None else np.asarray(mask, bool).reshape(-1)
    if selected.size != flat.shape[0]:
        raise InputError(f"mask: shape {np.shape(mask)} does not match the signal's voxel shape {lead}")
    usable = selected & (np.count_nonzero(weights, axis=1) >= minimum_distinct)
    return lead, b[keep], values, weights, excluded, selected, usable


def _empty(lead, names, selected, usable):
    n = int(np.prod(lead)) if lead else 1
    out = {name: np.full(n, np.nan) for name in names}
    state = np.full(n, fit_status.MASKED, fit_status.DTYPE)
    state[selected & ~usable] = fit_status.NO_SIGNAL
    return out, state


def _finish(out, state, lead):
    result = {name: values.reshape(lead) for name, values in out.items()}
    result["status"] = state.reshape(lead)
    return result


def _quality(y, fitted, weights):
    residual = (fitted - y) * weights
    n = np.maximum(weights.sum(axis=1), 1)
    rmse = np.sqrt((residual ** 2).sum(axis=1) / n)
    mean = (y * weights).sum(axis=1) / n
    total = (((y - mean[:, None]) * weights) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - (residual ** 2).sum(axis=1) / total
    return rmse, r2


def _loglinear(b, values, weights):
    """Weighted least squares of ln S = ln S0 - b ADC for every voxel (closed form)."""
    y = np.log(values)
    w = weights
    if w.min(initial=1.0) == 1.0:
        # Every sample used: one shared design, so the fit is two matrix-vector products.
        b_centred = b - b.mean()
        sxx = float(b_centred @ b_centred)
        slope = (y @ b_centred) / sxx
        intercept = y.mean(axis=1) - slope * b.mean()
        residual = y - intercept[:, None] - slope[:, None] * b
        se_slope = np.sqrt((residual * residual).sum(1) / max(b.size - 2, 1) / sxx)
        return -slope, np.exp(intercept), se_slope
    sw, sb, sbb = w.sum(1), (w * b).sum(1), (w * b * b).sum(1)
    sy, sby = (w * y).sum(1), (w * b * y).sum(1)
    det = sw * sbb - sb * sb
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (sw * sby - sb * sy) / det
        intercept = (sy - slope * sb) / sw
        residual = (y - intercept[:, None] - slope[:, None] * b) * w
        dof = np.maximum(sw - 2, 1)
        se_slope = np.sqrt((residual ** 2).sum(1) / dof * sw / det)
    return -slope, np.exp(intercept), se_slope


def fit_adc(signal, b_values, method="loglinear", b_min=None, b_max=None, mask=None, clip_value=None, floor=None,
            noise_sigma=None, progress=None):
    """Mono-exponential ADC: "loglinear", "weighted" (iterated WLS, weights S^2) or "nonlinear"."""
    if method not in ("loglinear", "weighted", "nonlinear"):
        raise InputError(f"ADC method '{method}' is not one of loglinear, weighted, nonlinear")
    lead, b, values, weights, excluded, selected, usable = _prepare(signal, b_values, b_min, b_max, mask,
                                                                    clip_value, floor, noise_sigma)
    out, state = _empty(lead, ("ADC", "S0", "rmse", "r2", "se_ADC"), selected, usable)
    rows = np.flatnonzero(usable)
    v, w = values[rows], weights[rows]
    adc, s0, se = _loglinear(b, v, w)
    if method == "weighted":
        for _ in range(2):   # weights proportional to the fitted signal squared (Veraart et al. 2013)
            predicted = s0[:, None] * np.exp(-b * adc[:, None])
            adc, s0, se = _loglinear(b, v, w * np.nan_to_num(predicted) ** 2)
    state_rows = np.full(rows.size, fit_status.OK, fit_status.DTYPE)
    if method == "nonlinear":
        scale = np.where(np.isfinite(s0) & (s0 > 0), s0, v.max(1))
        p0 = np.column_stack([np.ones(rows.size), np.clip(np.nan_to_num(adc, nan=1e-3), *ADC_BOUNDS)])
        fit = levenberg_marquardt.fit(lambda p: p[:, :1] * np.exp(-b * p[:, 1:2]), p0, v / scale[:, None],
                                      [0.0, ADC_BOUNDS[0]], [np.inf, ADC_BOUNDS[1]], weights=w,
                                      progress=progress)
        adc, s0, se = fit["params"][:, 1], fit["params"][:, 0] * scale, fit["se"][:, 1]
        state_rows = fit["status"]
    fitted = s0[:, None] * np.exp(-b * adc[:, None])
    rmse, r2 = _quality(v, fitted, w)
    state_rows = np.where(np.isfinite(adc), state_rows, fit_status.FAILED).astype(fit_status.DTYPE)
    state_rows[(adc < ADC_BOUNDS[0]) & (state_rows == fit_status.OK)] = fit_status.HIT_BOUND
    for name, value in (("ADC", adc), ("S0", s0), ("rmse", rmse), ("r2", r2), ("se_ADC", se)):
        out[name][rows] = value
    state[rows] = state_rows
    out["n_excluded"] = excluded.astype(float)
    report(progress, 1.0, "ADC done")
    result = _finish(out, state, lead)
    result["b_range"] = (float(b.min()), float(b.max()))
    return result


def _ivim_normalised(p, b):
    return p[:, :1] * (p[:, 1:2] * np.exp(-b * p[:, 3:4]) + (1 - p[:, 1:2]) * np.exp(-b * p[:, 2:3]))


def _segmented(b, v, w, threshold, bounds):
    """Segmented IVIM on signals normalised to S(b=min): D from b >= threshold, f from the
    intercept, then D* alone with D, f, S0 fixed (e.g. Pekar et al. 1992; Meeus et al.,
    MRM 2017 doi:10.1002/mrm.26584 review the variants)."""
    high = b >= threshold
    if np.unique(b[high]).size < 2:
        raise InputError(f"IVIM: fewer than 2 b-values at or above the threshold {threshold:g} s/mm2")
    if np.unique(b[~high]).size < 1 or b.min() > 50:
        raise InputError("IVIM: a low-b reference (b = 0 or near it) and b-values below the threshold are needed")
    d, intercept, _ = _loglinear(b[high], v[:, high], w[:, high])
    low = b == b.min()
    s0 = np.where(w[:, low].sum(1) > 0, (v[:, low] * w[:, low]).sum(1) / np.maximum(w[:, low].sum(1), 1), np.nan)
    f = np.clip(1.0 - intercept / s0, *bounds["f"])
    d = np.clip(np.nan_to_num(d, nan=1e-3), *bounds["D"])
    s0n = np.clip(s0, *bounds["S0"])
    # D* alone, the others fixed: a one-parameter bounded fit per voxel.
    fixed = np.column_stack([s0n, f, d])
    fit = levenberg_marquardt.fit(
        lambda p, k: _ivim_normalised(np.column_stack([k, p]), b), np.full((b.size and v.shape[0], 1), 0.03), v,
        [bounds["Dstar"][0]], [bounds["Dstar"][1]], args=(fixed,), weights=w)
    return np.column_stack([s0n, f, d, fit["params"][:, 0]])


def fit_ivim(signal, b_values, method="segmented", b_threshold=200.0, bounds=None, mask=None, clip_value=None,
             floor=None, noise_sigma=None, prior=None, progress=None):
    """IVIM: "segmented", "full" (bounded nonlinear from the segmented start) or "bayesian"."""
    if method not in ("segmented", "full", "bayesian"):
        raise InputError(f"IVIM method '{method}' is not one of segmented, full, bayesian")
    limits = dict(DEFAULT_IVIM_BOUNDS)
    limits.update(bounds or {})
    lead, b, values, weights, excluded, selected, usable = _prepare(signal, b_values, None, None, mask,
                                                                    clip_value, floor, noise_sigma, 4)
    names = ("S0", "f", "D", "Dstar", "rmse", "r2", "se_f", "se_D", "se_Dstar")
    out, state = _empty(lead, names, selected, usable)
    rows = np.flatnonzero(usable)
    v_raw, w = values[rows], weights[rows]
    low = b == b.min()
    reference = (v_raw[:, low] * w[:, low]).sum(1) / np.maximum(w[:, low].sum(1), 1)
    reference = np.where(reference > 0, reference, v_raw.max(1))
    v = v_raw / reference[:, None]
    report(progress, 0.1, "IVIM segmented")
    params = _segmented(b, v, w, b_threshold, limits)
    lower = np.array([limits[k][0] for k in ("S0", "f", "D", "Dstar")])
    upper = np.array([limits[k][1] for k in ("S0", "f", "D", "Dstar")])
    se = np.full((rows.size, 4), np.nan)
    state_rows = np.full(rows.size, fit_status.OK, fit_status.DTYPE)
    if method in ("full", "bayesian"):
        report(progress, 0.3, "IVIM full fit")
        fit = levenberg_marquardt.fit(lambda p: _ivim_normalised(p, b), np.clip(params, lower, upper), v, lower, upper,
                                      weights=w, max_iter=100,
                                      progress=lambda f, m="": report(progress, 0.3 + 0.4 * f, m))
        params, se, state_rows = fit["params"], fit["se"], fit["status"]
    if method == "bayesian":
        report(progress, 0.7, "IVIM Bayesian")
        params, se, state_rows = _bayesian(b, v, w, params, state_rows, lower, upper, prior)
    fitted = _ivim_normalised(params, b)
    rmse, r2 = _quality(v, fitted, w)
    finite = np.all(np.isfinite(params), axis=1)
    state_rows = np.where(finite, state_rows, fit_status.FAILED).astype(fit_status.DTYPE)
    out["S0"][rows] = params[:, 0] * reference
    for index, name in ((1, "f"), (2, "D"), (3, "Dstar")):
        out[name][rows] = params[:, index]
        out[f"se_{name}"][rows] = se[:, index]
    out["rmse"][rows] = rmse * reference
    out["r2"][rows] = r2
    state[rows] = state_rows
    out["n_excluded"] = excluded.astype(float)
    report(progress, 1.0, "IVIM done")
    result = _finish(out, state, lead)
    result["b_threshold"] = float(b_threshold)
    return result


def _to_latent(p, lower, upper):
    """Bounded parameters -> unbounded (scaled logit), so a Gaussian prior respects the bounds."""
    x = np.clip((p - lower) / (upper - lower), 1e-6, 1 - 1e-6)
    return np.log(x / (1 - x))


def _from_latent(z, lower, upper):
    return lower + (upper - lower) / (1 + np.exp(-z))


def _bayesian(b, v, w, start, start_status, lower, upper, prior):
    """Posterior estimate with an empirical population prior.

    The prior is a Gaussian in logit space of (S0, f, D, D*) whose mean and covariance come
    from the voxels the full fit found well (or ``prior=(mean, covariance)``), an approach
    after Neil & Bretthorst (MRM 1993) and Orton et al. (MRM 2014, doi:10.1002/mrm.24649).
    The posterior mode is found by the batched engine on data residuals augmented with
    the prior's whitened residuals; with the near-Gaussian posteriors of these models it
    is taken as the posterior mean. The noise variance per voxel is the full fit's.
    """
    z_start = _to_latent(start, lower, upper)
    good = (start_status == fit_status.OK) & np.all(np.isfinite(z_start), axis=1)
    if prior is not None:
        mean, covariance = (np.asarray(x, dtype=float) for x in prior)
    elif good.sum() >= 10:
        mean = np.median(z_start[good], axis=0)
        covariance = np.cov(z_start[good].T) + 1e-3 * np.eye(4)
    else:
        # Too few voxels to learn a population prior: a weak prior centred on mid-range values.
        mean = np.zeros(4)
        covariance = 4.0 * np.eye(4)
    whitening = np.linalg.cholesky(np.linalg.inv(covariance)).T
    n_points = np.maximum(w.sum(1), 5)
    residual = (_ivim_normalised(start, b) - v) * w
    sigma = np.sqrt(np.maximum((residual ** 2).sum(1) / np.maximum(n_points - 4, 1), 1e-12))

    def augmented(z, sigma_rows, weights_rows):
        p = _from_latent(z, lower, upper)
        data = _ivim_normalised(p, b) * weights_rows / sigma_rows[:, None]
        return np.concatenate([data, (z - mean) @ whitening.T], axis=1)

    y = np.concatenate([v * w / sigma[:, None], np.zeros((v.shape[0], 4))], axis=1)
    z0 = np.where(np.isfinite(z_start), z_start, mean)
    fit = levenberg_marquardt.fit(augmented, z0, y, np.full(4, -20.0), np.full(4, 20.0), args=(sigma, w),
                                  max_iter=100)
    params = _from_latent(fit["params"], lower, upper)
    jac_scale = (upper - lower) * np.exp(-fit["params"]) / (1 + np.exp(-fit["params"])) ** 2
    se = fit["se"] * jac_scale
    state_rows = np.where(fit["status"] == fit_status.HIT_BOUND, fit_status.OK, fit["status"]).astype(fit_status.DTYPE)
    return params, se, state_rows


def fit_kurtosis(signal, b_values, b_min=None, b_max=None, mask=None, clip_value=None, floor=None, noise_sigma=None,
                 progress=None):
    """Diffusion kurtosis (D, K): S = S0 exp(-b D + b^2 D^2 K / 6), quadratic start then bounded fit."""
    s, b_all = check_b_values(signal, b_values, 3)
    top = b_all.max() if b_max is None else min(b_max, b_all.max())
    if top < 1000:
        raise InputError(f"kurtosis needs b-values up to at least 1000 s/mm2 (ideally 2000-3000); the highest is {top:g}")
    lead, b, values, weights, excluded, selected, usable = _prepare(signal, b_values, b_min, b_max, mask,
                                                                    clip_value, floor, noise_sigma, 3)
    out, state = _empty(lead, ("S0", "D", "K", "rmse", "r2", "se_D", "se_K"), selected, usable)
    rows = np.flatnonzero(usable)
    v, w = values[rows], weights[rows]
    reference = v.max(1)
    vn = v / reference[:, None]
    design = np.stack([np.ones_like(b), -b, b * b], axis=1)
    from TMEMonitorLib.fitting.linear import solve_batched
    coefficients, _ = solve_batched(design, np.log(vn), weights=w)
    d0 = np.clip(np.nan_to_num(coefficients[:, 1], nan=1e-3), 1e-5, KURTOSIS_BOUNDS["D"][1])
    k0 = np.clip(np.nan_to_num(6 * coefficients[:, 2] / d0 ** 2, nan=0.5), 0.0, KURTOSIS_BOUNDS["K"][1])
    p0 = np.column_stack([np.clip(np.exp(np.nan_to_num(coefficients[:, 0])), 0.2, 5.0), d0, k0])
    lower = np.array([0.0, KURTOSIS_BOUNDS["D"][0], KURTOSIS_BOUNDS["K"][0]])
    upper = np.array([10.0, KURTOSIS_BOUNDS["D"][1], KURTOSIS_BOUNDS["K"][1]])
    fit = levenberg_marquardt.fit(lambda p: kurtosis_signal(p[:, 0], p[:, 1], p[:, 2], b), p0, vn, lower, upper,
                                  weights=w, progress=progress)
    params = fit["params"]
    rmse, r2 = _quality(vn, kurtosis_signal(params[:, 0], params[:, 1], params[:, 2], b), w)
    out["S0"][rows] = params[:, 0] * reference
    out["D"][rows], out["K"][rows] = params[:, 1], params[:, 2]
    out["se_D"][rows], out["se_K"][rows] = fit["se"][:, 1], fit["se"][:, 2]
    out["rmse"][rows], out["r2"][rows] = rmse * reference, r2
    state[rows] = fit["status"]
    out["n_excluded"] = excluded.astype(float)
    return _finish(out, state, lead)


def predict_signal(model, b_values, **params):
    """Signal predicted by a fitted model at any b (computed high-b images)."""
    if model == "adc":
        b = np.asarray(b_values, dtype=float)
        return np.asarray(params["S0"])[..., None] * np.exp(-b * np.asarray(params["ADC"])[..., None])
    if model == "ivim":
        return ivim_signal(params["S0"], params["D"], params["f"], params["Dstar"], b_values)
    if model == "kurtosis":
        return kurtosis_signal(params["S0"], params["D"], params["K"], b_values)
    raise InputError(f"unknown diffusion model '{model}' (adc, ivim, kurtosis)")
