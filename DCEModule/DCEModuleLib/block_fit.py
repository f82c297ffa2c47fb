"""Model fit of the analysed voxels block by block: convert a block's curves to concentration,
fit the kinetic model (or select one per voxel by AICc), measure the semi-quantitative curve
metrics, and write them into float32 maps; only one block's concentration exists at a time."""
from dataclasses import dataclass

import numpy as np

from TMEMonitorLib import kinetics
from TMEMonitorLib.fitting import fit_acceptance
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from . import semiquant
from .settings import SELECTABLE_MODELS
from .warnings_capture import collecting_warnings

SEMI_QUANTITATIVE_CHUNK = 8192   # voxels per semi-quantitative block
FIT_BLOCK = 65536                # voxels converted and fitted together (all cores work inside a block)
SEMI_QUANTITATIVE_MAPS = ("iAUC60", "iAUC90", "TTP_s", "peak_enhancement", "wash_in_slope", "wash_out_slope",
                          "BAT_s", "SER")
# Code of the chosen model in the "model" map when models are selected per voxel.
MODEL_CODES = {name: code for code, name in enumerate(SELECTABLE_MODELS, start=1)}


def model_curves(model, fit, t_rel, cp, rows=None):
    """Fitted concentration curves (N, T) of ``model`` from its fit result (NaN where not fitted)."""
    rows = slice(None) if rows is None else rows
    params = {name: fit[name][rows] for name in kinetics.MODELS[model]["parameters"]}
    if "delay_s" in fit:
        params["delay_s"] = np.nan_to_num(fit["delay_s"][rows])
    finite = np.all([np.isfinite(v) for v in params.values()], axis=0)
    clean = {k: np.where(finite, v, 0.0) for k, v in params.items()}
    with np.errstate(all="ignore"):
        curves = kinetics.concentration(model, t_rel, cp, **clean)
    return np.where(finite[:, None], curves, np.nan)


def fit_models(settings, tissue, t_rel, cp, progress):
    """(fit dict over the mask voxels, fitted curves (N, T) or None)."""
    if not settings.select_model:
        fit = kinetics.fit(settings.model, tissue, t_rel, cp, fit_delay=settings.fit_delay, progress=progress)
        curves = model_curves(settings.model, fit, t_rel, cp) if settings.write_fitted_curves else None
        return fit, curves
    # Per-voxel choice among nested models by AICc (kinetics.select_model).
    choice, fits, _ = kinetics.select_model(tissue, t_rel, cp, models=SELECTABLE_MODELS, progress=progress)
    n = tissue.shape[0]
    names = []
    for model in SELECTABLE_MODELS:
        names += [k for k in fits[model] if k != "status" and k not in names]
    out = {name: np.full(n, np.nan) for name in names}
    out["status"] = np.full(n, fit_status.NO_SIGNAL, dtype=fit_status.DTYPE)
    out["model"] = np.full(n, np.nan)
    curves = np.full(tissue.shape, np.nan) if settings.write_fitted_curves else None
    fitted_any = np.zeros(n, bool)
    for index, model in enumerate(SELECTABLE_MODELS):
        chosen = (choice == index) & (fits[model]["status"] != fit_status.NO_SIGNAL) \
            & (fits[model]["status"] != fit_status.MASKED)
        fitted_any |= chosen
        for name, values in fits[model].items():
            if name in out:
                out[name][chosen] = values[chosen]
        if model == "tofts":
            out["vp"][chosen] = 0.0           # the Tofts model has no plasma term
        out["model"][chosen] = MODEL_CODES[model]
        if curves is not None and chosen.any():
            curves[chosen] = model_curves(model, fits[model], t_rel, cp, rows=chosen)
    return out, curves


@dataclass
class BlockFitResult:
    maps: dict                      # name -> (slices, rows, cols) float32, NaN where not computed
    status: np.ndarray              # fit status (uint8) per voxel
    curve_type: np.ndarray          # 0 none, 1 persistent, 2 plateau, 3 washout
    fitted: np.ndarray = None       # (T, slices, rows, cols) mM, when asked for


def fit_blocks(prepared, settings, progress=None):
    """Fit every analysed voxel of a :class:`PreparedDCE`, block by block, into a :class:`BlockFitResult`.

    Warnings of the conversion go into ``prepared.warnings``."""
    t, t_rel, mask = prepared.t, prepared.t_rel, prepared.mask
    volume_shape, aif_info, warnings = prepared.volume_shape, prepared.aif, prepared.warnings
    convert, tissue_rows = prepared.convert, prepared.tissue_rows
    fit_acceptance.require_input_function(aif_info["cp_mM"], f"arterial input function ({aif_info['source']})")
    model_label = "patlak / tofts / extended_tofts" if settings.select_model else settings.model
    report(progress, 0.3, "fitting " + model_label)
    maps = {}
    status = np.full(volume_shape, fit_status.MASKED if prepared.mask_given else fit_status.NO_SIGNAL,
                     dtype=np.uint8)
    curve_type = np.zeros(volume_shape, dtype=np.uint8)
    fitted = np.full((t.size,) + volume_shape, np.nan, dtype=np.float32) if settings.write_fitted_curves else None
    mask_index = np.nonzero(mask)
    arrival = aif_info["tissue_arrival_s"]
    n_tissue = tissue_rows.size
    for start in range(0, n_tissue, FIT_BLOCK):
        block = slice(start, start + FIT_BLOCK)
        with collecting_warnings(warnings):
            curves = convert(tissue_rows[block])
        where = tuple(index[block] for index in mask_index)

        def block_progress(fraction, message="", start=start, size=curves.shape[0]):
            report(progress, 0.3 + 0.6 * (start + fraction * size) / n_tissue,
                   f"{model_label}: {min(start + int(fraction * size), n_tissue)} of {n_tissue} voxels")
        fit, fitted_block = fit_models(settings, curves, t_rel, aif_info["cp_mM"], block_progress)
        status[where] = fit["status"]
        for name, values in fit.items():
            if name == "status" or np.ndim(values) != 1:
                continue
            if name not in maps:
                maps[name] = np.full(volume_shape, np.nan, dtype=np.float32)
            maps[name][where] = fit_acceptance.blank(values, fit["status"])    # NaN where not accepted
        del fit
        if fitted is not None:
            fitted[(slice(None),) + where] = fitted_block.T
        if settings.semi_quantitative:
            _semi_quantitative(curves, t_rel, arrival, prepared.baseline, where, maps, curve_type, volume_shape)
        del curves
    return BlockFitResult(maps=maps, status=status, curve_type=curve_type, fitted=fitted)


def _semi_quantitative(curves, t_rel, arrival, baseline, where, maps, curve_type, volume_shape):
    """Curve metrics of one block's curves into ``maps`` and ``curve_type`` at ``where``."""
    for sub in range(0, curves.shape[0], SEMI_QUANTITATIVE_CHUNK):
        rows = slice(sub, sub + SEMI_QUANTITATIVE_CHUNK)
        metrics = semiquant.curve_metrics(curves[rows], t_rel,
                                          arrival_s=arrival if np.ndim(arrival) == 0 else arrival[rows],
                                          baseline=baseline)
        sub_where = tuple(index[rows] for index in where)
        for name in SEMI_QUANTITATIVE_MAPS:
            if name not in maps:
                maps[name] = np.full(volume_shape, np.nan, dtype=np.float32)
            maps[name][sub_where] = metrics[name]
        curve_type[sub_where] = metrics["curve_type"]
