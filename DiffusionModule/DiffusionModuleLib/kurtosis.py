"""Diffusion kurtosis: S(b) = S0 exp(-b D + b^2 D^2 K / 6) (Jensen et al., MRM 2005, doi:10.1002/mrm.20508).

A weighted quadratic fit of ln S gives the start; a bounded nonlinear fit on S refines it.
The expansion holds up to b of about 2000-3000 s/mm2 (Jensen & Helpern, NMR Biomed 2010,
doi:10.1002/nbm.1518), so kurtosis needs b-values reaching at least 1000 s/mm2.
"""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt
from TMEMonitorLib.fitting.linear import solve_batched
from TMEMonitorLib.progress import report

from .b_values import check_b_values
from .signal_models import kurtosis_jacobian, kurtosis_rows
from .fit_frame import empty_outputs, finish, mark_failed, prepare, quality

# D in mm2/s; K unitless, 0..3 (monotonic decay needs K < 3 / (b D); tissue K is ~0.5-2).
BOUNDS = {"D": (0.0, 0.005), "K": (0.0, 3.0)}
MIN_TOP_B = 1000.0   # s/mm2


_model, _jacobian = kurtosis_rows, kurtosis_jacobian


def fit_kurtosis(signal, b_values, b_min=None, b_max=None, mask=None, clip_value=None, floor=None, noise_sigma=None,
                 progress=None):
    """Kurtosis maps from ``signal`` (..., n_b): "D" (mm2/s), "K", "S0", "se_D", "se_K", "rmse", "r2", "status"."""
    _, b_all = check_b_values(signal, b_values, 3)
    top = b_all.max() if b_max is None else min(b_max, b_all.max())
    if top < MIN_TOP_B:
        raise InputError(f"kurtosis needs b-values up to at least {MIN_TOP_B:g} s/mm2 (ideally 2000-3000); "
                         f"the highest used is {top:g}")
    prep = prepare(signal, b_values, b_min, b_max, mask, clip_value, floor, noise_sigma, 3)
    b = prep.b
    out, state = empty_outputs(prep, ("S0", "D", "K", "se_D", "se_K", "rmse", "r2"))
    rows = np.flatnonzero(prep.usable)
    v, w = prep.values[rows], prep.weights[rows]
    reference = np.where(w > 0, v, 0).max(1)          # largest used sample
    vn = v / reference[:, None]
    design = np.stack([np.ones_like(b), -b, b * b], axis=1)
    coefficients, _ = solve_batched(design, np.log(vn), weights=w)
    d0 = np.clip(np.nan_to_num(coefficients[:, 1], nan=1e-3), 1e-5, BOUNDS["D"][1])
    k0 = np.clip(np.nan_to_num(6 * coefficients[:, 2] / d0 ** 2, nan=0.5), *BOUNDS["K"])
    p0 = np.column_stack([np.clip(np.exp(np.nan_to_num(coefficients[:, 0])), 0.2, 5.0), d0, k0])
    lower = np.array([0.0, BOUNDS["D"][0], BOUNDS["K"][0]])
    upper = np.array([10.0, BOUNDS["D"][1], BOUNDS["K"][1]])
    fit = levenberg_marquardt.fit(lambda p: _model(p, b), p0, vn, lower, upper, jacobian=lambda p: _jacobian(p, b),
                                  weights=w, max_iter=100, progress=progress)
    params = fit["params"]
    rmse, r2 = quality(vn, _model(params, b), w)
    out["S0"][rows] = params[:, 0] * reference
    out["D"][rows], out["K"][rows] = params[:, 1], params[:, 2]
    out["se_D"][rows], out["se_K"][rows] = fit["se"][:, 1], fit["se"][:, 2]
    out["rmse"][rows], out["r2"][rows] = rmse * reference, r2
    state[rows] = mark_failed(fit["status"], *params.T)
    report(progress, 1.0, "kurtosis done")
    return finish(out, state, prep, b_range=(float(b.min()), float(b.max())))


