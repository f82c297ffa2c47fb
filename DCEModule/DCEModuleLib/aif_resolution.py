"""The plasma arterial input function on the series' time grid, from the source the settings
name (population with a fitted or given delay, table, measured ROI, automatic detection),
with where it came from."""
import numpy as np

from TMEMonitorLib import kinetics
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.kinetics import extended_tofts

from . import aif
from .pre_contrast import arrival_time_s

DELAY_STEP_S = 0.25      # grid step of the population AIF delay search


def population_delay_s(function, hematocrit, tissue, t_rel, step_s=DELAY_STEP_S, n_curves=64):
    """Delay of a population AIF that best explains a sample of the tissue curves.

    Each candidate delay evaluates the analytic AIF exactly (no interpolation of a sampled
    curve) and is scored by the residual of the linear extended Tofts fit (Murase, MRM 2004,
    doi:10.1002/mrm.20066; it covers the nested Tofts and Patlak shapes) summed over up to
    ``n_curves`` voxels; the best few are then compared by the full nonlinear fit.
    """
    curves = tissue[np.unique(np.linspace(0, tissue.shape[0] - 1, min(n_curves, tissue.shape[0])).astype(int))]
    t_min = t_rel / 60.0
    candidates = np.arange(0.0, 0.5 * t_rel[-1], step_s)
    errors = np.full(candidates.size, np.inf)
    for index, delay in enumerate(candidates):
        cp = aif.blood_to_plasma(function(t_rel, delay), hematocrit)
        if not np.any(cp > 0):
            continue
        with np.errstate(all="ignore"):
            start = extended_tofts.linear_start(curves, t_min, cp)
            ok = np.all(np.isfinite(start), axis=1)
            if not ok.any():
                continue
            predicted = kinetics.concentration("extended_tofts", t_rel, cp, Ktrans=np.clip(start[ok, 0], 0.0, None),
                                               ve=np.clip(start[ok, 1], 1e-3, 1.0), vp=np.clip(start[ok, 2], 0.0, 1.0))
        errors[index] = np.sum((predicted - curves[ok]) ** 2) / ok.sum()
    if not np.isfinite(errors).any():
        raise InputError("population AIF: no delay explains the tissue curves; give the AIF delay")
    # The linear fit's running integrals bias it slightly: refine near its best by the full fit.
    best = int(np.argmin(errors))
    near = candidates[max(best - 4, 0): best + 5]
    costs = []
    for delay in near:
        fit = kinetics.fit("extended_tofts", curves, t_rel, aif.blood_to_plasma(function(t_rel, delay), hematocrit))
        costs.append(np.nanmean(fit["rmse"] ** 2) if np.isfinite(fit["rmse"]).any() else np.inf)
    costs = np.asarray(costs)
    return float(near[int(np.argmin(costs))]) if np.isfinite(costs).any() else float(candidates[best])


def arterial_input(settings, t, t_rel, conc, tissue, aif_mask, aif_table, aif_from_signal=None):
    """Plasma AIF on the series' time grid, with where it came from.

    ``aif_from_signal(flat voxel indices)`` -> (whole-blood AIF, how): for signal input, a measured
    or detected AIF is converted from the arterial voxels' mean signal (None: concentration input)."""
    hct = settings.hematocrit
    tissue_arrival = arrival_time_s(tissue, t_rel)
    common = {"t_s": t, "tissue_arrival_s": tissue_arrival, "voxels": None}
    if settings.aif_source == "population":
        function = aif.POPULATION_AIFS[settings.population_aif]
        if settings.aif_delay_s is not None:
            delay, delay_source = float(settings.aif_delay_s), "user setting"
            if not 0 <= delay < t_rel[-1]:
                raise InputError(f"AIF delay: {delay:g} s lies outside the series (0 to {t_rel[-1]:g} s)")
        else:
            delay = population_delay_s(function, hct, tissue, t_rel)
            delay_source = "the extended Tofts fit of the tissue curves"
        cb = function(t_rel, delay)
        return {**common, "cb_mM": cb, "cp_mM": aif.blood_to_plasma(cb, hct), "delay_s": delay,
                "source": f"population ({settings.population_aif}), delay {delay:.1f} s from {delay_source}"}
    if settings.aif_source == "table":
        table_t, table_cp = (np.asarray(v, dtype=float).ravel() for v in aif_table)
        if table_t.size != table_cp.size:
            raise InputError(f"AIF table: {table_t.size} times but {table_cp.size} concentrations")
        if table_t.size < t.size or table_t[-1] < min(t[-1], t_rel[-1]) - 1e-3:
            raise InputError(f"AIF table: {table_t.size} points up to {table_t[-1]:g} s is shorter than the "
                             f"series ({t.size} frames up to {t_rel[-1]:g} s)")
        on_grid = table_t.size == t.size and (np.allclose(table_t, t, atol=1e-3)
                                              or np.allclose(table_t, t_rel, atol=1e-3))
        if not on_grid:
            raise InputError("AIF table: its times are on another grid than the series' frame times; "
                             "resample it to the frame times")
        if not np.all(np.isfinite(table_cp)):
            raise InputError("AIF table: holds NaN or infinite concentrations")
        return {**common, "cb_mM": aif.plasma_to_blood(table_cp, hct), "cp_mM": table_cp, "source": "table"}
    if settings.aif_source == "measured":
        if aif_from_signal is not None:
            cb, how = aif_from_signal(np.flatnonzero(aif_mask.ravel()))
            return {**common, "cb_mM": cb, "cp_mM": aif.blood_to_plasma(cb, hct), "voxels": np.nonzero(aif_mask),
                    "source": f"measured in the arterial ROI ({how})"}
        cp = aif.measured_aif(conc, aif_mask, hct)
        used = aif_mask & np.all(np.isfinite(conc), axis=-1)
        return {**common, "cb_mM": aif.plasma_to_blood(cp, hct), "cp_mM": cp, "voxels": np.nonzero(used),
                "source": f"measured in the arterial ROI ({int(used.sum())} of {int(aif_mask.sum())} voxels)"}
    candidates = np.isfinite(conc).all(axis=-1)
    detected = aif.detect_aif(conc, t_rel, mask=candidates, n_voxels=settings.aif_voxels, hematocrit=hct)
    how = f"{len(detected['flat_indices'])} voxels"
    if aif_from_signal is not None:
        cb, how = aif_from_signal(detected["flat_indices"])
        detected.update(aif_blood=cb, aif_plasma=aif.blood_to_plasma(cb, hct))
    return {**common, "cb_mM": detected["aif_blood"], "cp_mM": detected["aif_plasma"],
            "source": f"automatic detection ({how})", "voxels": detected["indices"], "detection": detected}
