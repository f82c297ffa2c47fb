"""Per-voxel choice among nested kinetic models (e.g. Patlak, Tofts, extended Tofts)."""
import numpy as np

from ..errors import InputError
from ..fitting.model_selection import select_by_aicc, select_by_f_test
from ..progress import report
from .registry import MODELS, model_module
from .voxelwise_fit import fit


def select_model(ct_mM, t_s, cp_mM, models=("patlak", "tofts", "extended_tofts"), criterion="aicc", alpha=0.05,
                 mask=None, progress=None, **options):
    """Fit each model and choose one per voxel.

    ``criterion`` "aicc" (lowest corrected AIC) or "f_test" (nested F-test at level
    ``alpha``: the fewest-parameter model that fits best, replaced by a larger model only
    when significantly better). ``options`` go to :func:`fit`.
    Returns (choice: index into ``models`` over the leading dims, {model: fit result},
    scores (len(models), ...): AICc per model, or for "f_test" the F-test p-values).
    """
    if criterion not in ("aicc", "f_test"):
        raise InputError(f"criterion: '{criterion}' is not one of 'aicc', 'f_test'")
    if len(models) < 2:
        raise InputError("models: model selection needs at least two models")
    for model in models:
        model_module(model)
    ct = np.asarray(ct_mM, dtype=float)
    n_points = ct.shape[-1]
    fits = {}
    for index, model in enumerate(models):
        fits[model] = fit(model, ct, t_s, cp_mM, mask=mask, **options,
                          progress=lambda f, m="", i=index: report(progress, (i + f) / len(models), m))
    rss = np.stack([fits[m]["rmse"] ** 2 * n_points for m in models])
    n_params = [len(MODELS[m]["parameters"]) + (1 if options.get("fit_delay") else 0) for m in models]
    if criterion == "aicc":
        choice, scores = select_by_aicc(rss, n_points, n_params)
    else:
        choice, scores = select_by_f_test(rss, n_points, n_params, alpha)
    return choice, fits, scores
