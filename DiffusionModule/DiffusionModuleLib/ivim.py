"""Intravoxel incoherent motion: S(b) = S0 [f exp(-b D*) + (1 - f) exp(-b D)].

(Le Bihan et al., Radiology 1988, doi:10.1148/radiology.168.2.3393671.) Signals are fitted
normalised to the mean of their lowest-b samples, so S0 is about 1 and one set of bounds
serves every scanner scale. Methods:

- "segmented": D (and the intercept, hence f) from a log-linear fit of b >= ``b_threshold``,
  where the perfusion term has decayed; then D* alone with S0, f, D fixed (the usual two-step
  fit). Exact when exp(-b_threshold D*) is negligible.
- "full": bounded nonlinear least squares of all four parameters from the segmented start.
- "bayesian" (the default): posterior mean under an empirical population prior (ivim_bayesian.py).
"""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from .adc import loglinear
from .ivim_bayesian import MAP_FTOL, population_prior_of, posterior_mean
from .signal_models import ivim_jacobian, ivim_rows, ivim_rows_and_jacobian
from .fit_frame import empty_outputs, finish, mark_failed, prepare, quality

METHODS = ("segmented", "full", "bayesian")
# The one default of the library, the settings (widget, CLI, scripts): Bayesian, the lowest bias
# and SD of f, D and D* in the Monte-Carlo table (Testing/benchmarks/benchmark_diffusion_fit.py).
DEFAULT_METHOD = "bayesian"
PARAMETERS = ("S0", "f", "D", "Dstar")
# Bounds that never clip physiological tissue values (mm2/s; S0 relative to the lowest-b signal).
# Free water D is 3.0e-3 mm2/s at 37 C (Holz et al. 2000, doi:10.1039/b005319h). D* of body
# tissues spans 0.01-0.1 mm2/s over the regions of the OSIPI TF2.4 reference set
# (Testing/Data/osipi-ivim, generic*.json: Dp 0.01-0.1); 0.1 is also the D* ceiling of the OSIPI
# TF2.4 bounds that osipy 0.1.4 uses. A wider ceiling (0.2 before) lets noise push D* far above
# tissue values (3.8 % of voxels above 0.15 at SNR 50, Testing/benchmarks/benchmark_peers.py).
# The floor 0.005 keeps D* above the tissue D range, where f and D would trade off; vessels with
# D* > 0.1 need ``bounds={"Dstar": (...)}``.
DEFAULT_BOUNDS = {"S0": (0.5, 2.0), "f": (0.0, 1.0), "D": (0.0, 0.005), "Dstar": (0.005, 0.1)}
# Relative decrease of the residual sum of squares that ends a voxel's fit: sqrt(machine eps),
# MINPACK's default (More, Garbow & Hillstrom 1980, ANL-80-74); far below the noise of any DWI.
FTOL = 1.49e-8
MAX_REFERENCE_B = 50.0   # s/mm2: the lowest b must be at or below this to serve as the S0 reference
# Voxels whose full fits give the Bayesian fit's population prior (a median and a 3x3 covariance:
# 4,000 voxels fix the median to ~2 % of the population's spread, 1.25 / sqrt(4000); 2,000 moved the
# population phantom's D* bias from 3.3 to 4.0 %); all voxels below this number.
PRIOR_SAMPLE = 4000


# The forward model and its Jacobian live in signal_models.py (shared with ivim_bayesian.py
# without an import cycle); kept here under their historical names.
model, jacobian = ivim_rows, ivim_jacobian


def check_design(b, threshold):
    """Raise unless the b-values can support an IVIM fit with this threshold."""
    distinct = np.unique(np.round(b))
    if distinct[0] > MAX_REFERENCE_B:
        raise InputError(f"IVIM needs a b = 0 (or b <= {MAX_REFERENCE_B:g} s/mm2) reference; the lowest b-value "
                         f"is {distinct[0]:g} s/mm2")
    if np.count_nonzero(distinct >= threshold) < 2:
        raise InputError(f"IVIM: fewer than 2 b-values at or above the threshold {threshold:g} s/mm2 "
                         f"(b = {distinct.tolist()})")
    if np.count_nonzero(distinct < threshold) < 2:
        raise InputError(f"IVIM: D* needs at least one b-value between the reference and the threshold "
                         f"{threshold:g} s/mm2 (b = {distinct.tolist()})")


def segmented(b, v, w, threshold, bounds, fit_weights=None, ftol=FTOL):
    """(n, 4) segmented estimates on normalised signals ``v`` with 0/1 weights ``w``
    (``fit_weights``: the same weights for the D* fit, or None when all are 1; ``ftol``: the D*
    fit's relative tolerance on the residual sum of squares)."""
    high = b >= threshold
    d, intercept, _ = loglinear(b[high], v[:, high], w[:, high])
    low = b == b.min()
    s0 = (v[:, low] * w[:, low]).sum(1) / np.maximum(w[:, low].sum(1), 1)
    s0 = np.where(s0 > 0, s0, 1.0)
    f = np.clip(np.nan_to_num(1.0 - intercept / s0, nan=0.1), *bounds["f"])
    d = np.clip(np.nan_to_num(d, nan=1e-3), *bounds["D"])
    s0 = np.clip(s0, *bounds["S0"])
    # D* alone with the others fixed: a one-parameter bounded fit, all voxels at once. With S0, f
    # and D fixed the model is amplitude * exp(-b D*) + tissue, the tissue term computed once.
    amplitude = (s0 * f)[:, None]
    tissue = (s0 * (1 - f))[:, None] * np.exp(-b * d[:, None])

    def evaluate(p, amp, base):
        e = np.exp(-b * p)
        return amp * e + base, (-amp * b * e)[..., None]

    dstar = levenberg_marquardt.fit(
        lambda p, amp, base: amp * np.exp(-b * p) + base, np.full((v.shape[0], 1), 0.03), v,
        [bounds["Dstar"][0]], [bounds["Dstar"][1]], args=(amplitude, tissue), weights=fit_weights,
        evaluate=evaluate,
        ftol=ftol, standard_errors=False)["params"][:, 0]
    return np.column_stack([s0, f, d, np.nan_to_num(dstar, nan=0.03)])


def fit_ivim(signal, b_values, method=DEFAULT_METHOD, b_threshold=200.0, bounds=None, mask=None, clip_value=None,
             floor=None, noise_sigma=None, prior=None, progress=None):
    """IVIM maps from ``signal`` (..., n_b) at ``b_values`` (s/mm2).

    ``bounds``: {"S0"|"f"|"D"|"Dstar": (low, high)} overriding DEFAULT_BOUNDS (S0 relative to
    the lowest-b signal). ``prior``: for "bayesian", (mean, covariance) in the latent space
    of ivim_bayesian, instead of the population prior learnt from the data.
    Returns "S0", "f", "D", "Dstar" (mm2/s), "se_f", "se_D", "se_Dstar" (standard errors, or
    posterior SDs for "bayesian"), "rmse", "r2", "status", "n_excluded", "method", "b_threshold".
    """
    if method not in METHODS:
        raise InputError(f"IVIM method '{method}' is not one of {', '.join(METHODS)}")
    limits = dict(DEFAULT_BOUNDS)
    for name, pair in (bounds or {}).items():
        if name not in limits or len(pair) != 2 or not pair[0] < pair[1]:
            raise InputError(f"IVIM bounds: '{name}': {pair} is not a (low, high) pair for one of {PARAMETERS}")
        limits[name] = (float(pair[0]), float(pair[1]))
    prep = prepare(signal, b_values, mask=mask, clip_value=clip_value, floor=floor, noise_sigma=noise_sigma,
                   minimum_distinct=4)
    b = prep.b
    check_design(b, b_threshold)
    out, state = empty_outputs(prep, ("S0", "f", "D", "Dstar", "se_f", "se_D", "se_Dstar", "rmse", "r2"))
    rows = np.flatnonzero(prep.usable)
    v_raw, w = prep.values[rows], prep.weights[rows]
    low = b == b.min()
    reference = (v_raw[:, low] * w[:, low]).sum(1) / np.maximum(w[:, low].sum(1), 1)
    # No usable lowest-b sample (e.g. saturated): scale by the largest used sample instead.
    reference = np.where(reference > 0, reference, np.where(w > 0, v_raw, 0).max(1))
    v = v_raw / reference[:, None]
    # Every sample used (the usual case): no weights, so the engine skips multiplying by ones.
    fit_weights = None if prep.all_valid else w
    report(progress, 0.05, "IVIM segmented fit")
    # For the Bayesian fit the segmented estimates only start the posterior mode search, which
    # itself stops at ivim_bayesian.MAP_FTOL: their D* fit need not go further.
    params = segmented(b, v, w, b_threshold, limits, fit_weights,
                       ftol=MAP_FTOL if method == "bayesian" else FTOL)
    lower = np.array([limits[k][0] for k in PARAMETERS])
    upper = np.array([limits[k][1] for k in PARAMETERS])
    se = np.full((rows.size, 4), np.nan)
    state_rows = np.full(rows.size, fit_status.OK, fit_status.DTYPE)
    def full_fit(start, values, weights, share):
        return levenberg_marquardt.fit(lambda p: model(p, b), np.clip(start, lower, upper), values, lower, upper,
                                       jacobian=lambda p: jacobian(p, b), weights=weights, max_iter=100,
                                       ftol=FTOL, evaluate=lambda p: ivim_rows_and_jacobian(p, b),
                                       progress=lambda f, m="": report(progress, 0.1 + share * f, "IVIM full fit"))

    if method == "full":
        fit = full_fit(params, v, fit_weights, 0.9)
        params, se, state_rows = fit["params"], fit["se"], fit["status"]
    if method == "bayesian":
        start = np.clip(params, lower, upper)
        start_status = state_rows
        if prior is None:
            # The population prior is learnt from full fits of an evenly spread sample of the voxels
            # (all of them in small volumes); the posterior mode search starts from the segmented
            # estimates elsewhere, so the full fit is not run twice over every voxel.
            sample = np.arange(0, rows.size, max(1, -(-rows.size // PRIOR_SAMPLE)))
            fit = full_fit(params[sample], v[sample], None if fit_weights is None else fit_weights[sample], 0.1)
            start[sample], start_status = fit["params"], np.full(rows.size, fit_status.FAILED, fit_status.DTYPE)
            start_status[sample] = fit["status"]
            prior = population_prior_of(start[sample], fit["status"], lower, upper)
        sigma = None if prep.sigma is None else prep.sigma[rows] / reference
        params, se, state_rows = posterior_mean(
            b, v, w, start, start_status, lower, upper, prior=prior, sigma=sigma,
            progress=lambda f, m="": report(progress, 0.25 + 0.7 * f, "IVIM Bayesian posterior"))
        # Where the grid missed the posterior from a segmented start (a few voxels in 10^4), once
        # more from the full fit.
        retry = np.flatnonzero((state_rows == fit_status.FAILED) & (start_status == fit_status.FAILED))
        if retry.size:
            fit = full_fit(start[retry], v[retry], None if fit_weights is None else fit_weights[retry], 0.0)
            again = posterior_mean(b, v[retry], w[retry], fit["params"], fit["status"], lower, upper, prior=prior,
                                   sigma=None if sigma is None else sigma[retry])
            for target, values in zip((params, se, state_rows), again):
                target[retry] = values
    rmse, r2 = quality(v, model(params, b), w)
    state_rows = mark_failed(state_rows, *params.T)
    out["S0"][rows] = params[:, 0] * reference
    for index, name in ((1, "f"), (2, "D"), (3, "Dstar")):
        out[name][rows] = params[:, index]
        out[f"se_{name}"][rows] = se[:, index]
    out["rmse"][rows] = rmse * reference
    out["r2"][rows] = r2
    state[rows] = state_rows
    report(progress, 1.0, "IVIM done")
    return finish(out, state, prep, method=method, b_threshold=float(b_threshold),
                  b_range=(float(b.min()), float(b.max())))
