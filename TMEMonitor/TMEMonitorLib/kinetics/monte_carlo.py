"""Monte-Carlo bias and precision of a kinetic fit: noisy copies of known curves, fitted at once."""
import numpy as np

from ..errors import InputError
from ..fitting import status as fit_status
from .forward import concentration
from .registry import model_module
from .voxelwise_fit import fit


def monte_carlo(model, truth, t_s, cp_mM, noise_sd_mM, n_repeats=200, seed=0, delay_s=None, **options):
    """Fit ``n_repeats`` noisy copies (Gaussian, SD ``noise_sd_mM``) of each true parameter set.

    ``truth``: {parameter: scalar or (S,) array} for S parameter sets; ``delay_s`` optional
    true delay (then pass ``fit_delay=True`` in ``options`` to fit it). Returns
    {parameter: {"truth", "bias", "sd", "mean_se" (the fit's own standard error, averaged),
    "relative_bias", "relative_sd"} each (S,)} for the
    model's parameters (and "delay_s" when fitted), plus "fraction_ok" (S,): converged
    fits, inside the bounds or on them.
    """
    module = model_module(model)
    if n_repeats < 2:
        raise InputError("n_repeats: at least 2 noisy copies are needed for an SD")
    arrays = np.broadcast_arrays(*[np.atleast_1d(np.asarray(truth[p], dtype=float)) for p in module.PARAMETERS])
    sets = {p: a.ravel() for p, a in zip(module.PARAMETERS, arrays)}
    n_sets = arrays[0].size
    clean = concentration(model, t_s, cp_mM, delay_s=delay_s, **sets)          # (S, T)
    rng = np.random.default_rng(seed)
    noisy = clean[:, None, :] + rng.normal(0.0, noise_sd_mM, (n_sets, n_repeats, clean.shape[-1]))
    result = fit(model, noisy, t_s, cp_mM, **options)
    names = list(module.PARAMETERS) + (["delay_s"] if options.get("fit_delay") else [])
    true_values = dict(sets)
    if "delay_s" in names:
        true_values["delay_s"] = np.broadcast_to(0.0 if delay_s is None else np.asarray(delay_s, float), (n_sets,))
    out = {}
    for name in names:
        estimates = result[name]                                                  # (S, R)
        bias = np.nanmean(estimates, axis=1) - true_values[name]
        sd = np.nanstd(estimates, axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.abs(true_values[name])
            out[name] = {"truth": true_values[name], "bias": bias, "sd": sd,
                         "mean_se": np.nanmean(result[f"se_{name}"], axis=1),
                         "relative_bias": np.where(scale > 0, bias / scale, np.nan),
                         "relative_sd": np.where(scale > 0, sd / scale, np.nan)}
    ok = (result["status"] == fit_status.OK) | (result["status"] == fit_status.HIT_BOUND)
    out["fraction_ok"] = ok.mean(axis=1)
    return out
