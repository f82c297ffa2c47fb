"""The DCE analysis on arrays: signal -> T10 -> concentration -> AIF -> model fit -> maps.

No MRML here: ``logic.py`` resolves nodes into arrays, calls :func:`analyse_dce`, and writes
the result into the scene; the command line does the same from files. Everything is
computed and checked before anything is written, so bad input leaves the scene untouched.
Arrays of a series are (frames, slices, rows, cols); the numeric core works on (..., T).
Times inside the analysis (AIF delay, bolus arrival, time to peak) count from the first frame.
"""
import warnings as python_warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import kinetics
from TMEMonitorLib.kinetics import extended_tofts
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import fit_acceptance
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from . import agents, aif, semiquant, signal, t1
from .bolus_arrival import fit_bolus_arrival
from .settings import DCESettings, SELECTABLE_MODELS

MIN_FRAMES = 8
# A concentration series peaking above this (mM) in most voxels is a signal series or in µM.
MAX_CONCENTRATION_MM = 100.0
CONCENTRATION_CHUNK = 16384      # voxels converted at a time (bounds the float64 temporaries)
SEMI_QUANTITATIVE_CHUNK = 8192   # voxels per semi-quantitative block
FIT_BLOCK = 65536                # voxels converted and fitted together (all cores work inside a block)
AIF_SAMPLE_CANDIDATES = 16384    # tissue voxels converted to time the bolus and the population AIF
DELAY_STEP_S = 0.25      # grid step of the population AIF delay search
# Foreground: mean signal above this fraction of the image's 99th percentile. Air and
# background noise lie far below it; their "concentration" is noise and would pass for an
# artery or fill the maps with meaningless fits.
FOREGROUND_FRACTION = 0.1
# Blood T1 used for arterial voxels when T10 is a fixed (tissue) value:
# 1.441 s at 1.5 T, 1.932 s at 3 T (Lu et al., MRM 2004, doi:10.1002/mrm.20193).
BLOOD_T1_S = {1.5: 1.441, 3.0: 1.932}
SEMI_QUANTITATIVE_MAPS = ("iAUC60", "iAUC90", "TTP_s", "peak_enhancement", "wash_in_slope", "wash_out_slope",
                          "BAT_s", "SER")
# Code of the chosen model in the "model" map when models are selected per voxel.
MODEL_CODES = {name: code for code, name in enumerate(SELECTABLE_MODELS, start=1)}

# map name -> (quantity, unit, colour map)
PARAMETER_DISPLAY = {
    "Ktrans": ("Ktrans", "1/min", "inferno"),
    "ve": ("ve", "", "viridis"),
    "vp": ("vp", "", "viridis"),
    "kep": ("kep", "1/min", "inferno"),
    "Fp": ("Fp", "mL/min/mL", "inferno"),
    "PS": ("PS", "1/min", "inferno"),
    "E": ("extraction fraction", "", "viridis"),
    "delay_s": ("delay", "s", "viridis"),
    "model": ("selected model", "code", "viridis"),
    "rmse": ("RMSE", "mM", "magma"),
    "r2": ("R2", "", "viridis"),
    "T10": ("T10", "s", "viridis"),
    "iAUC60": ("iAUC60", "mM*s", "inferno"),
    "iAUC90": ("iAUC90", "mM*s", "inferno"),
    "TTP_s": ("time to peak", "s", "viridis"),
    "peak_enhancement": ("peak concentration", "mM", "inferno"),
    "wash_in_slope": ("wash-in slope", "mM/s", "inferno"),
    "wash_out_slope": ("wash-out slope", "mM/s", "RdBu_r"),
    "BAT_s": ("bolus arrival time", "s", "viridis"),
    "SER": ("signal enhancement ratio", "", "viridis"),
}


@dataclass
class DCEAnalysis:
    maps: dict                      # name -> (slices, rows, cols) float32, NaN where not computed
    status: np.ndarray              # fit status (uint8) per voxel
    curve_type: np.ndarray          # 0 none, 1 persistent, 2 plateau, 3 washout
    mask: np.ndarray
    t_s: np.ndarray                 # frame times as given (the index of the output sequences)
    aif: dict                       # t_s, cp_mM (plasma), cb_mM (blood), source, voxels
    acquisition: dict               # name -> (value, where it came from)
    settings: DCESettings
    baseline_frames: np.ndarray
    concentration: np.ndarray = None    # (T, slices, rows, cols) mM, when asked for
    fitted: np.ndarray = None           # (T, slices, rows, cols) mM, when asked for
    warnings: list = field(default_factory=list)


def resolve_acquisition(metadata, provenance, settings):
    """TR, flip angle, field strength and relaxivity with where each came from; refuses when missing."""
    provenance = provenance or {}
    resolved = {}
    for key, override, label in (("TR_s", settings.tr_s, "repetition time TR (s)"),
                                 ("flip_angle_deg", settings.flip_angle_deg, "flip angle (deg)"),
                                 ("field_strength_T", settings.field_strength_T, "field strength (T)")):
        if override is not None:
            resolved[key] = (float(override), "user setting")
        elif _number(metadata.get(key)) is not None:
            resolved[key] = (_number(metadata[key]), provenance.get(key, "acquisition metadata"))
        elif key == "field_strength_T" and settings.relaxivity_per_mM_s is not None:
            continue
        else:
            raise MetadataError(f"DCE series: the {label} is missing from the acquisition metadata; "
                                f"give it as a setting")
    tr, _ = resolved["TR_s"]
    if not 0 < tr < 1.0:
        raise MetadataError(f"DCE series: TR = {tr:g} s is implausible for a spoiled gradient echo (is it in ms?)")
    flip, _ = resolved["flip_angle_deg"]
    if not 0 < flip < 90:
        raise MetadataError(f"DCE series: flip angle {flip:g} deg is implausible for DCE")
    if "field_strength_T" in resolved and not 0 < resolved["field_strength_T"][0] <= 21:
        raise MetadataError(f"DCE series: field strength {resolved['field_strength_T'][0]:g} T is implausible")
    if settings.relaxivity_per_mM_s is not None:
        if not settings.relaxivity_per_mM_s > 0:
            raise InputError(f"relaxivity: {settings.relaxivity_per_mM_s:g} 1/(mM s) must be positive")
        resolved["r1_per_mM_s"] = (float(settings.relaxivity_per_mM_s), "user setting")
    else:
        field_T = resolved["field_strength_T"][0]
        resolved["r1_per_mM_s"] = (float(agents.relaxivity(settings.agent, field_T)),
                                   f"preset for {settings.agent} at {field_T:g} T ({agents.source()})")
    resolved["hematocrit"] = _hematocrit_entry(settings)
    return resolved


def _hematocrit_entry(settings):
    return (float(settings.hematocrit), "user setting" if settings.hematocrit != 0.42
            else "default large-vessel haematocrit")


def _number(value):
    """A finite float from a metadata value (numbers or numeric text), else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _check_series(signal_4d, t_s, what="DCE series"):
    if signal_4d.ndim != 4:
        raise InputError(f"{what}: expected (frames, slices, rows, cols), got shape {signal_4d.shape}")
    if signal_4d.shape[0] < MIN_FRAMES:
        raise InputError(f"{what}: {signal_4d.shape[0]} frames are too few (at least {MIN_FRAMES} needed)")
    t = np.asarray(t_s, dtype=float).ravel()
    if t.shape != (signal_4d.shape[0],):
        raise InputError(f"{what}: {signal_4d.shape[0]} frames but {t.size} frame times")
    if not np.all(np.isfinite(t)):
        raise MetadataError(f"{what}: frame times hold NaN or infinite values")
    if np.any(np.diff(t) <= 0):
        raise MetadataError(f"{what}: frame times are not strictly increasing")
    if t[-1] - t[0] > 6 * 3600:
        raise MetadataError(f"{what}: frames span {t[-1] - t[0]:g} s; are the frame times in seconds?")
    empty = [i for i in range(signal_4d.shape[0]) if not np.isfinite(signal_4d[i]).any()]
    if empty:
        raise InputError(f"{what}: frame(s) {empty} hold no finite value")
    return t


def _volume_mask(array, volume_shape, what):
    array = np.asarray(array)
    if array.shape != volume_shape:
        raise InputError(f"{what}: shape {array.shape} does not match the DCE volume {volume_shape}")
    mask = array.astype(bool)
    if not mask.any():
        raise InputError(f"{what}: no voxel selected")
    return mask


@contextmanager
def _collecting_warnings(into):
    """Warnings of the numeric core go into the analysis' list (shown by the widget and the CLI)."""
    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always")
        yield
    into.extend(str(w.message) for w in caught)


def _foreground(signal_4d, finite_signal):
    """Voxels holding tissue or blood rather than air or background noise."""
    mean = np.where(finite_signal, signal_4d.mean(axis=0), np.nan)
    if not np.isfinite(mean).any():
        raise InputError("DCE series: no voxel has finite values at every frame")
    return finite_signal & (mean > FOREGROUND_FRACTION * np.nanpercentile(mean, 99))


def _population_delay_s(function, hematocrit, tissue, t_rel, step_s=DELAY_STEP_S, n_curves=64):
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


def _arrival_time_s(curves, t_rel):
    """Bolus arrival (s from the first frame) of the mean of the most enhancing curves (N, T).

    The linear-quadratic upslope fit (bolus_arrival) places it between frames and, unlike a
    threshold on the baseline level, is not misled by curves that rise until the last frame.
    """
    curve = signal.enhancing_mean_curve(curves)
    arrival = float(fit_bolus_arrival(curve[None, :], t_rel)[0])
    if not np.isfinite(arrival):
        arrival = float(t_rel[max(signal.find_arrival_frame(curve) - 1, 0)])
    return arrival


def _pre_contrast_count(signal_curves, t_rel):
    """Number of frames before the bolus arrival in signal curves (N, T); InputError if under 2."""
    count = signal.find_baseline_frames(signal_curves, t_rel).size
    # A persistently enhancing curve peaks at the last frame, which raises the threshold
    # method's baseline level: take the upslope fit's arrival when it is earlier.
    count_fit = int(np.count_nonzero(t_rel < _arrival_time_s(signal_curves, t_rel)))
    return min(count, count_fit) if count_fit >= 2 else count


def _blood_t1(field_T):
    nearest = min(BLOOD_T1_S, key=lambda f: abs(f - field_T))
    return BLOOD_T1_S[nearest]


def _t10(settings, vfa, t10_map, needed, arterial, volume_shape, acquisition, warnings, b1=None, t10_labels=None):
    """T10 (s) of the ``needed`` voxels and where it came from."""
    tr = acquisition["TR_s"][0]
    if t10_labels is not None and (vfa is not None or t10_map is not None):
        warnings.append("T10 per tissue ignored: a " + ("VFA series" if vfa is not None else "T1 map")
                        + " gives T10 per voxel")
    if vfa is not None:
        if len(vfa) not in (2, 3):
            raise InputError("VFA series: give (signal, flip angles deg) or (signal, flip angles deg, TR s)")
        vfa_signal, flip_angles = np.asarray(vfa[0], dtype=float), np.asarray(vfa[1], dtype=float).ravel()
        vfa_tr = tr if len(vfa) == 2 or vfa[2] is None else float(vfa[2])
        if vfa_signal.ndim != 4 or vfa_signal.shape[1:] != volume_shape:
            raise InputError(f"VFA series: volume {vfa_signal.shape[1:]} does not match the DCE volume {volume_shape}")
        if vfa_signal.shape[0] != flip_angles.size:
            raise InputError(f"VFA series: {vfa_signal.shape[0]} volumes but {flip_angles.size} flip angles")
        fit = t1.fit_vfa(np.moveaxis(vfa_signal[:, needed], 0, -1), flip_angles, vfa_tr, method=settings.t1_method,
                         b1_map=None if b1 is None else b1[needed])
        n_failed = int(np.count_nonzero(~np.isfinite(fit["T1"])))
        if n_failed:
            warnings.append(f"T1 fit: {n_failed} of {fit['T1'].size} voxels have no T1; they are not fitted")
        acquisition["VFA_TR_s"] = (vfa_tr, "DCE series TR" if len(vfa) == 2 or vfa[2] is None else "VFA series")
        return fit["T1"], (f"variable flip angle fit ({settings.t1_method}, "
                           f"{', '.join(f'{a:g}' for a in flip_angles)} deg"
                           f"{', B1-corrected' if b1 is not None else ''})")
    if t10_map is not None:
        t10_map = np.asarray(t10_map, dtype=float)
        if t10_map.shape != volume_shape:
            raise InputError(f"T1 map: shape {t10_map.shape} does not match the DCE volume {volume_shape}")
        if np.nanmedian(np.where(t10_map > 0, t10_map, np.nan)) > 50:
            raise InputError("T1 map: median T1 above 50 s; is the map in ms? Give it in seconds")
        return t10_map[needed], "T1 map"
    if settings.fixed_t10_s is not None and not 0 < settings.fixed_t10_s < 10:
        raise InputError(f"fixed T10: {settings.fixed_t10_s:g} s is implausible")
    if t10_labels is not None:
        return _t10_per_tissue(settings, t10_labels, needed, arterial, volume_shape, acquisition, warnings)
    if settings.fixed_t10_s is not None:
        if not 0 < settings.fixed_t10_s < 10:
            raise InputError(f"fixed T10: {settings.fixed_t10_s:g} s is implausible")
        values = np.full(int(needed.sum()), float(settings.fixed_t10_s))
        source = f"fixed T10 {settings.fixed_t10_s:g} s (user setting)"
        return values, source + _arterial_blood_t1(values, arterial, needed, acquisition, warnings)
    raise InputError("no T1 source: give a variable-flip-angle series, a T1 map or a fixed T10")


def _arterial_blood_t1(values, arterial, needed, acquisition, warnings, only=None):
    """Blood T1 into the arterial voxels of ``values`` (over ``needed``); the text to add to the source."""
    if arterial is None or not arterial.any():
        return ""
    field_T = acquisition.get("field_strength_T", (None,))[0]
    if field_T is None:
        warnings.append("arterial voxels use the fixed tissue T10: no field strength to choose a blood T1")
        return ""
    blood = _blood_t1(field_T)
    rows = arterial[needed] if only is None else arterial[needed] & only
    values[rows] = blood
    return f"; arterial voxels blood T1 {blood:g} s (Lu et al. 2004)"


def _label_value(key, names):
    """Label value of a tissue named ``key`` (a segment name, or the label value itself)."""
    if not isinstance(key, (int, np.integer)) and key in names:
        return int(names[key])
    try:
        return int(key)
    except (TypeError, ValueError):
        known = ", ".join(f"'{n}'" for n in names) or "none; give label values"
        raise InputError(f"T10 per tissue: no tissue named '{key}' in the labels (names: {known})") from None


def _t10_per_tissue(settings, t10_labels, needed, arterial, volume_shape, acquisition, warnings):
    """A T10 per tissue label; ``settings.fixed_t10_s`` (if any) for unlabelled voxels."""
    labels, names = t10_labels if isinstance(t10_labels, tuple) else (t10_labels, {})
    labels = np.asarray(labels)
    if labels.shape != volume_shape:
        raise InputError(f"T10 tissue labels: shape {labels.shape} does not match the DCE volume {volume_shape}")
    if not settings.t10_per_tissue:
        raise InputError("T10 tissue labels given without a T10 per tissue (e.g. tumour=1.6, muscle=1.4)")
    labels = np.where(np.isfinite(labels), labels, 0).astype(np.int64)[needed]
    default = settings.fixed_t10_s
    values = np.full(labels.shape, np.nan if default is None else float(default))
    labelled = np.zeros(labels.shape, bool)
    parts = []
    for key, t10 in settings.t10_per_tissue.items():
        value = _label_value(key, names)
        region = labels == value
        if not region.any():
            raise InputError(f"T10 per tissue: tissue '{key}' (label {value}) has no voxel in the analysed region")
        values[region] = float(t10)
        labelled |= region
        parts.append(f"{key} {float(t10):g} s")
    source = f"T10 per tissue ({', '.join(parts)}; "
    source += "other voxels " + (f"{default:g} s)" if default is not None else "not fitted)")
    source += _arterial_blood_t1(values, arterial, needed, acquisition, warnings, only=~labelled)
    n_without = int(np.count_nonzero(~np.isfinite(values)))
    if n_without:
        warnings.append(f"T10 per tissue: {n_without} voxels lie in no listed tissue and no default T10 is set; "
                        f"they are not fitted")
    return values, source


# Voxels sampled (evenly) to time the bolus for the baseline: the mean of the most enhancing
# curves of a large even sample is the same curve, without a copy of the whole series.
BASELINE_SAMPLE = 16384


def _even_sample(rows, limit=BASELINE_SAMPLE):
    if rows.size <= limit:
        return rows
    return rows[np.linspace(0, rows.size - 1, limit).astype(int)]


def _first_finite_curves(curves, rows, wanted=4096):
    """Up to ``wanted`` finite curves, in voxel order (when the even sample held none); may be empty."""
    found = []
    for start in range(0, rows.size, CONCENTRATION_CHUNK):
        block = curves(rows[start:start + CONCENTRATION_CHUNK])
        found.append(block[np.all(np.isfinite(block), axis=1)])
        if sum(f.shape[0] for f in found) >= wanted:
            break
    return np.concatenate(found)[:wanted]


def _baseline(settings, gather, t_rel, in_mask, in_artery):
    """Pre-contrast frames: given, or those before the earliest bolus arrival (artery or tissue).

    ``gather(rows)``: the needed voxels' curves (n, T); ``in_mask`` / ``in_artery``: which of them
    are analysed tissue / arterial candidates (None when there are none)."""
    if settings.baseline_frames is not None:
        count = int(settings.baseline_frames)
        if count < 1 or count >= t_rel.size - 2:
            raise InputError(f"baseline frames: {settings.baseline_frames} is not a valid number of "
                             f"pre-contrast frames for a series of {t_rel.size}")
        return np.arange(count)
    count = _pre_contrast_count(gather(_even_sample(np.flatnonzero(in_mask))), t_rel)
    if in_artery is not None and in_artery.any():
        # The artery enhances before the tissue: its frames after arrival are not baseline.
        try:
            count = min(count, _pre_contrast_count(gather(_even_sample(np.flatnonzero(in_artery))), t_rel))
        except InputError as error:
            raise InputError(f"arterial voxels: {error}") from None
    return np.arange(count)


def analyse_dce(signal_4d, t_s, settings=None, metadata=None, provenance=None, mask=None, vfa=None,
                t10_map=None, aif_mask=None, aif_table=None, progress=None, b1_map=None, t10_labels=None):
    """Run the whole DCE analysis on arrays; returns a :class:`DCEAnalysis`.

    ``signal_4d``: the SPGR signal series, or with ``settings.input_kind == "concentration"``
    a series already in mM (no T1 source, no signal conversion). ``vfa``: (vfa_signal
    (n_flip, slices, rows, cols), flip_angles_deg[, vfa TR s]) for T1 mapping (the DCE TR
    when none is given), or ``t10_map`` (slices, rows, cols) in s, or ``t10_labels`` with
    ``settings.t10_per_tissue`` (a T10 per tissue), or ``settings.fixed_t10_s``. ``b1_map``:
    relative flip-angle scale (actual / nominal) on the DCE grid; it corrects the VFA flip
    angles and the DCE flip angle. ``t10_labels``: integer label array, or (labels,
    {segment name: label value}). ``aif_mask``: arterial ROI for a measured AIF;
    ``aif_table``: (t_s, plasma mM) for a tabulated AIF on the series' frame times.
    """
    settings = (settings or DCESettings()).validated()
    prepared = _prepare(signal_4d, t_s, settings, metadata, provenance, mask, vfa, t10_map, aif_mask, aif_table,
                        progress, b1_map, t10_labels)
    t, t_rel, mask = prepared["t"], prepared["t_rel"], prepared["mask"]
    volume_shape, aif_info, warnings = prepared["volume_shape"], prepared["aif"], prepared["warnings"]
    convert, tissue_rows = prepared["convert"], prepared["tissue_rows"]
    fit_acceptance.require_input_function(aif_info["cp_mM"], f"arterial input function ({aif_info['source']})")

    # Block by block: convert, fit, measure the curves, and write the float32 maps; only one
    # block's concentration exists at a time.
    model_label = "patlak / tofts / extended_tofts" if settings.select_model else settings.model
    report(progress, 0.3, "fitting " + model_label)
    maps = {}
    status = np.full(volume_shape, fit_status.MASKED if prepared["mask_given"] else fit_status.NO_SIGNAL,
                     dtype=np.uint8)
    curve_type = np.zeros(volume_shape, dtype=np.uint8)
    fitted = np.full((t.size,) + volume_shape, np.nan, dtype=np.float32) if settings.write_fitted_curves else None
    mask_index = np.nonzero(mask)
    arrival = aif_info["tissue_arrival_s"]
    n_tissue = tissue_rows.size
    for start in range(0, n_tissue, FIT_BLOCK):
        block = slice(start, start + FIT_BLOCK)
        with _collecting_warnings(warnings):
            curves = convert(tissue_rows[block])
        where = tuple(index[block] for index in mask_index)

        def block_progress(fraction, message="", start=start, size=curves.shape[0]):
            report(progress, 0.3 + 0.6 * (start + fraction * size) / n_tissue,
                   f"{model_label}: {min(start + int(fraction * size), n_tissue)} of {n_tissue} voxels")
        fit, fitted_block = _fit(settings, curves, t_rel, aif_info["cp_mM"], block_progress)
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
            for sub in range(0, curves.shape[0], SEMI_QUANTITATIVE_CHUNK):
                rows = slice(sub, sub + SEMI_QUANTITATIVE_CHUNK)
                metrics = semiquant.curve_metrics(curves[rows], t_rel,
                                                  arrival_s=arrival if np.ndim(arrival) == 0 else arrival[rows],
                                                  baseline=prepared["baseline"])
                sub_where = tuple(index[rows] for index in where)
                for name in SEMI_QUANTITATIVE_MAPS:
                    if name not in maps:
                        maps[name] = np.full(volume_shape, np.nan, dtype=np.float32)
                    maps[name][sub_where] = metrics[name]
                curve_type[sub_where] = metrics["curve_type"]
        del curves
    if prepared["t10_voxels"] is not None:
        t10_full = np.full(volume_shape, np.nan, dtype=np.float32)
        t10_full[prepared["needed"]] = prepared["t10_voxels"]
        t10_full[~mask] = np.nan
        maps["T10"] = t10_full

    conc = prepared["conc"]
    report(progress, 1.0, "done")
    return DCEAnalysis(maps=maps, status=status, curve_type=curve_type, mask=mask, t_s=t, aif=aif_info,
                       acquisition=prepared["acquisition"], settings=settings, baseline_frames=prepared["baseline"],
                       concentration=np.moveaxis(conc, -1, 0) if settings.write_concentration else None,
                       fitted=fitted, warnings=warnings)


@dataclass
class AIFPreview:
    aif: dict                       # as DCEAnalysis.aif: t_s, cp_mM, cb_mM, source, voxels, ...
    acquisition: dict
    settings: DCESettings
    warnings: list = field(default_factory=list)


def preview_aif(signal_4d, t_s, settings=None, metadata=None, provenance=None, mask=None, vfa=None,
                t10_map=None, aif_mask=None, aif_table=None, progress=None, b1_map=None, t10_labels=None):
    """The AIF :func:`analyse_dce` would use with the same arguments, without the model fit."""
    settings = (settings or DCESettings()).validated()
    prepared = _prepare(signal_4d, t_s, settings, metadata, provenance, mask, vfa, t10_map, aif_mask, aif_table,
                        progress, b1_map, t10_labels)
    report(progress, 1.0, "AIF resolved")
    return AIFPreview(aif=prepared["aif"], acquisition=prepared["acquisition"], settings=settings,
                      warnings=prepared["warnings"])


def _check_concentration_values(conc_4d, foreground):
    """Refuse a 'concentration' series whose values cannot be mM (a signal series, or µM)."""
    peaks = np.max(np.abs(conc_4d[:, foreground]), axis=0)
    peak = float(np.percentile(peaks, 99)) if peaks.size else 0.0
    if peak > MAX_CONCENTRATION_MM:
        raise InputError(f"concentration series: values up to {peak:g} in most voxels; expected mM (under "
                         f"{MAX_CONCENTRATION_MM:g}). Is it a signal series (input kind 'signal') or in µM?")


def _b1_values(b1_map, volume_shape):
    b1 = np.asarray(b1_map, dtype=float)
    if b1.shape != volume_shape:
        raise InputError(f"B1 map: shape {b1.shape} does not match the DCE/VFA volume {volume_shape}")
    usable = np.isfinite(b1) & (b1 > 0)
    if not usable.any():
        raise InputError("B1 map: no voxel holds a positive flip-angle scale")
    median = float(np.median(b1[usable]))
    if not 0.2 < median < 3.0:
        raise InputError(f"B1 map: median {median:g}; expected the relative flip-angle scale (actual / nominal, "
                         f"about 1). Is it in percent? Divide it by 100")
    return np.where(usable, b1, np.nan)


def _prepare(signal_4d, t_s, settings, metadata, provenance, mask, vfa, t10_map, aif_mask, aif_table, progress,
             b1_map, t10_labels):
    """Everything up to and including the AIF: checks, T10, concentration, baseline, AIF."""
    from_concentration = settings.input_kind == "concentration"
    what = "concentration series" if from_concentration else "DCE series"
    signal_4d = np.asarray(signal_4d, dtype=np.float32)
    t = _check_series(signal_4d, t_s, what)
    t_rel = t - t[0]
    volume_shape = signal_4d.shape[1:]
    if from_concentration:
        acquisition = {"input": (None, "concentration series (mM) given: no T1 mapping or signal conversion"),
                       "hematocrit": _hematocrit_entry(settings)}
    else:
        acquisition = resolve_acquisition(metadata or {}, provenance, settings)
        acquisition["input"] = (None, "signal series (SPGR), converted to concentration")
    if settings.aif_source == "measured" and aif_mask is None:
        raise InputError("AIF source 'measured' needs an arterial ROI (aif_mask)")
    if settings.aif_source == "table" and aif_table is None:
        raise InputError("AIF source 'table' needs an AIF table (time s, plasma concentration mM)")
    finite_signal = np.all(np.isfinite(signal_4d), axis=0)
    if from_concentration:
        if not finite_signal.any():
            raise InputError("concentration series: no voxel has a finite concentration at every frame")
        # Background of a concentration series is zero (or NaN): any finite, non-zero curve is foreground.
        foreground = finite_signal & np.any(signal_4d != 0, axis=0)
        if not foreground.any():
            raise InputError("concentration series: every voxel is zero at every frame")
        _check_concentration_values(signal_4d, foreground)
    else:
        foreground = _foreground(signal_4d, finite_signal)
    b1 = None
    if b1_map is not None and not from_concentration:
        b1 = _b1_values(b1_map, volume_shape)
    if settings.t10_per_tissue and t10_labels is None and not from_concentration:
        raise InputError("T10 per tissue needs tissue labels (a label map or segmentation)")
    # Without a mask every voxel with signal is analysed; the background is marked "no signal".
    mask_given = mask is not None
    mask = _volume_mask(mask, volume_shape, "mask") if mask_given else foreground
    if not mask.any():
        raise InputError(f"{what}: no voxel holds signal")
    warnings = []
    if from_concentration:
        ignored = [name for name, value in (("VFA series", vfa), ("T1 map", t10_map), ("B1 map", b1_map),
                                            ("T10 tissue labels", t10_labels)) if value is not None]
        if ignored:
            warnings.append(f"{', '.join(ignored)} ignored: the input is already concentration")

    # Voxels whose concentration is needed: the analysis mask, plus arterial candidates.
    arterial = None
    if settings.aif_source == "automatic":
        needed = foreground | mask
        arterial = needed & ~mask
    elif settings.aif_source == "measured":
        aif_mask = _volume_mask(aif_mask, volume_shape, "AIF ROI")
        needed = mask | aif_mask
        arterial = aif_mask
    else:
        needed = mask
    # The needed voxels' curves are gathered block by block from the (T, voxels) series and
    # converted when used: no full-size copy of the series is made.
    series_2d = signal_4d.reshape(t.size, -1)
    needed_index = np.flatnonzero(needed.ravel())
    n_needed = needed_index.size

    def gather(rows):
        """(n, T) float32 curves of the needed voxels ``rows`` (indices or slice)."""
        return np.ascontiguousarray(series_2d[:, needed_index[rows]].T)

    in_mask = mask.ravel()[needed_index]
    in_artery = None if arterial is None else arterial.ravel()[needed_index]
    t10_voxels = None
    with _collecting_warnings(warnings):
        if from_concentration:
            aif_from_signal = None
            baseline = _baseline(settings, gather, t_rel, in_mask, in_artery)

            def convert(rows):
                return gather(rows).astype(np.float32, copy=False)
        else:
            report(progress, 0.05, "T1 mapping")
            t10_voxels, t10_source = _t10(settings, vfa, t10_map, needed, arterial, volume_shape, acquisition,
                                          warnings, b1=b1, t10_labels=t10_labels)
            acquisition["T10"] = (None, t10_source)
            flip = acquisition["flip_angle_deg"][0]
            r1 = acquisition["r1_per_mM_s"][0]
            t10_rows = np.broadcast_to(np.asarray(t10_voxels, dtype=float), (n_needed,))
            flip_rows = flip
            if b1 is not None:
                b1_rows = b1[needed]
                # Voxels without a B1 value get no concentration (their actual flip is unknown).
                t10_rows = np.where(np.isfinite(b1_rows), t10_rows, np.nan)
                flip_rows = flip * np.where(np.isfinite(b1_rows), b1_rows, 1.0)
                acquisition["B1"] = (None, "B1 map: actual flip angle = nominal x B1 ("
                                           + ("VFA and DCE)" if vfa is not None else "DCE)"))
            report(progress, 0.15, "signal to concentration")
            baseline = _baseline(settings, gather, t_rel, in_mask, in_artery)
            tr = acquisition["TR_s"][0]

            def aif_from_signal(flat_voxels):
                """Whole-blood AIF (mM) from the mean signal of arterial voxels (flat volume indices),
                converted once with the blood T1: averaging before the nonlinear SPGR inversion
                keeps noise from biasing the peak, and vessel VFA T1 values (noise, inflow) are not
                used."""
                rows = np.searchsorted(needed_index, np.asarray(flat_voxels).ravel())
                curves = gather(rows).astype(float)
                curves = curves[np.all(np.isfinite(curves), axis=1)]
                if curves.shape[0] == 0:
                    raise InputError("arterial voxels: no voxel has a finite signal at every frame")
                flip_aif = flip_rows if np.ndim(flip_rows) == 0 else float(np.nanmean(flip_rows[rows]))
                blood_t1 = settings.blood_t1_s or _blood_t1(acquisition["field_strength_T"][0])
                with np.errstate(all="ignore"), python_warnings.catch_warnings():
                    python_warnings.simplefilter("ignore")
                    cb = signal.spgr_to_concentration(curves.mean(axis=0), baseline, blood_t1, tr, flip_aif, r1)
                if not np.all(np.isfinite(cb)):
                    raise InputError(f"arterial signal: {int(np.sum(~np.isfinite(cb)))} frames lie beyond the "
                                     f"SPGR saturation limit for blood T1 {blood_t1:g} s; check the flip angle, "
                                     "TR and blood T1, or use a population AIF")
                return cb, (f"mean signal of {curves.shape[0]} voxels converted with blood T1 {blood_t1:g} s"
                            + (" (user setting)" if settings.blood_t1_s else " (Lu et al. 2004)"))

            def convert(rows):
                with np.errstate(all="ignore"):
                    return signal.spgr_to_concentration(
                        gather(rows), baseline, t10_rows[rows], tr,
                        flip_rows if np.ndim(flip_rows) == 0 else flip_rows[rows], r1).astype(np.float32)
    acquisition["baseline_frames"] = (float(baseline.size), "user setting" if settings.baseline_frames is not None
                                      else "frames before the bolus arrival")
    tissue_rows = np.flatnonzero(in_mask)
    # The whole-volume concentration is made only to find or measure the AIF, or to write it;
    # otherwise each block of voxels is converted when it is fitted (see analyse_dce).
    conc = None
    if settings.aif_source in ("measured", "automatic") or settings.write_concentration:
        conc = np.full(volume_shape + (t.size,), np.nan, dtype=np.float32)
        conc_2d = conc.reshape(-1, t.size)                       # a view: voxel-major like the blocks
        with _collecting_warnings(warnings):
            for start in range(0, n_needed, CONCENTRATION_CHUNK):
                rows = slice(start, start + CONCENTRATION_CHUNK)
                conc_2d[needed_index[rows]] = convert(rows)

        def converted(rows):
            return conc_2d[needed_index[rows]]
        convert = tissue_curves = converted
    else:
        def tissue_curves(rows):
            with python_warnings.catch_warnings():
                python_warnings.simplefilter("ignore")             # reported when the block is fitted
                return convert(rows)
    # Bolus timing and the population AIF delay need only an even sample of valid tissue curves.
    sample_rows = _even_sample(tissue_rows, AIF_SAMPLE_CANDIDATES)
    sample = tissue_curves(sample_rows)
    sample = sample[np.all(np.isfinite(sample), axis=1)]
    if sample.shape[0] == 0:                        # none in the even sample: look through every voxel
        sample = _first_finite_curves(tissue_curves, tissue_rows)
    if sample.shape[0] == 0:
        raise InputError("concentration: no voxel of the mask has a finite concentration at every frame "
                         + ("" if from_concentration else
                            "(check T10, TR, flip angle, relaxivity and the baseline)"))
    sample = sample[np.unique(np.linspace(0, sample.shape[0] - 1, min(sample.shape[0], 4096)).astype(int))]

    report(progress, 0.25, "arterial input function")
    with _collecting_warnings(warnings):
        aif_info = _arterial_input(settings, t, t_rel, conc, sample, aif_mask, aif_table, aif_from_signal)
    return {"t": t, "t_rel": t_rel, "volume_shape": volume_shape, "mask": mask, "mask_given": mask_given,
            "needed": needed, "convert": convert, "tissue_rows": tissue_rows, "conc": conc, "baseline": baseline,
            "acquisition": acquisition,
            "warnings": warnings, "aif": aif_info, "t10_voxels": t10_voxels}


def _full(values, mask):
    full = np.full(mask.shape, np.nan, dtype=np.float32)
    full[mask] = values
    return full


def _model_curves(model, fit, t_rel, cp, rows=None):
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


def _fit(settings, tissue, t_rel, cp, progress):
    """(fit dict over the mask voxels, fitted curves (N, T) or None)."""
    if not settings.select_model:
        fit = kinetics.fit(settings.model, tissue, t_rel, cp, fit_delay=settings.fit_delay, progress=progress)
        curves = _model_curves(settings.model, fit, t_rel, cp) if settings.write_fitted_curves else None
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
            curves[chosen] = _model_curves(model, fits[model], t_rel, cp, rows=chosen)
    return out, curves


def _arterial_input(settings, t, t_rel, conc, tissue, aif_mask, aif_table, aif_from_signal=None):
    """Plasma AIF on the series' time grid, with where it came from.

    ``aif_from_signal(flat voxel indices)`` -> (whole-blood AIF, how): for signal input, a measured
    or detected AIF is converted from the arterial voxels' mean signal (None: concentration input)."""
    hct = settings.hematocrit
    tissue_arrival = _arrival_time_s(tissue, t_rel)
    common = {"t_s": t, "tissue_arrival_s": tissue_arrival, "voxels": None}
    if settings.aif_source == "population":
        function = aif.POPULATION_AIFS[settings.population_aif]
        if settings.aif_delay_s is not None:
            delay, delay_source = float(settings.aif_delay_s), "user setting"
            if not 0 <= delay < t_rel[-1]:
                raise InputError(f"AIF delay: {delay:g} s lies outside the series (0 to {t_rel[-1]:g} s)")
        else:
            delay = _population_delay_s(function, hct, tissue, t_rel)
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
