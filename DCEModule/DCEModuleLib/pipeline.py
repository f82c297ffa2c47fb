"""The DCE analysis on arrays: signal -> T10 -> concentration -> AIF -> model fit -> maps.

No MRML here: ``logic.py`` resolves nodes into arrays, calls :func:`analyse_dce`, and writes
the result into the scene; the command line does the same from files. Everything is
computed and checked before anything is written, so bad input leaves the scene untouched.
Arrays of a series are (frames, slices, rows, cols); the numeric core works on (..., T).
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import kinetics
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from . import agents, aif, semiquant, signal, t1
from .settings import DCESettings

MIN_FRAMES = 8
# Blood T1 used for measured/automatic AIF voxels when no T1 map covers them:
# 1.932 s at 3 T, 1.441 s at 1.5 T (Lu et al., MRM 2004, doi:10.1002/mrm.20193).
BLOOD_T1_S = {1.5: 1.441, 3.0: 1.932}

# map name -> (quantity, unit, colour map)
PARAMETER_DISPLAY = {
    "Ktrans": ("Ktrans", "1/min", "inferno"),
    "ve": ("ve", "", "viridis"),
    "vp": ("vp", "", "viridis"),
    "kep": ("kep", "1/min", "inferno"),
    "Fp": ("Fp", "mL/min/mL", "inferno"),
    "PS": ("PS", "1/min", "inferno"),
    "delay_s": ("delay", "s", "viridis"),
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
    t_s: np.ndarray
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
        elif metadata.get(key) is not None:
            resolved[key] = (float(metadata[key]), provenance.get(key, "acquisition metadata"))
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
    if settings.relaxivity_per_mM_s is not None:
        resolved["r1_per_mM_s"] = (float(settings.relaxivity_per_mM_s), "user setting")
    else:
        field_T = resolved["field_strength_T"][0]
        resolved["r1_per_mM_s"] = (float(agents.relaxivity(settings.agent, field_T)),
                                   f"preset for {settings.agent} at {field_T:g} T ({agents.source()})")
    resolved["hematocrit"] = (float(settings.hematocrit), "user setting" if settings.hematocrit != 0.42
                              else "default large-vessel haematocrit")
    return resolved


def _check_series(signal_4d, t_s):
    if signal_4d.ndim != 4:
        raise InputError(f"DCE series: expected (frames, slices, rows, cols), got shape {signal_4d.shape}")
    if signal_4d.shape[0] < MIN_FRAMES:
        raise InputError(f"DCE series: {signal_4d.shape[0]} frames are too few (at least {MIN_FRAMES} needed)")
    t = np.asarray(t_s, dtype=float)
    if t.shape != (signal_4d.shape[0],):
        raise InputError(f"DCE series: {signal_4d.shape[0]} frames but {t.size} frame times")
    if np.any(np.diff(t) <= 0):
        raise MetadataError("DCE series: frame times are not strictly increasing")
    return t


def _population_onset_s(function, t_s):
    """Time from a population AIF's zero to its rise (5 % of peak), on a fine grid."""
    fine = np.arange(0.0, 120.0, 0.05)
    values = function(fine, 0.0)
    return float(fine[np.argmax(values >= 0.05 * values.max())])


def _arrival_time_s(curves, t_s):
    """Bolus arrival of the mean of the most enhancing curves (N, T)."""
    frame = signal.find_arrival_frame(signal.enhancing_mean_curve(curves))
    return float(t_s[max(frame - 1, 0)])


def _blood_t1(field_T):
    nearest = min(BLOOD_T1_S, key=lambda f: abs(f - field_T))
    return BLOOD_T1_S[nearest]


def analyse_dce(signal_4d, t_s, settings=None, metadata=None, provenance=None, mask=None, vfa=None,
                t10_map=None, aif_mask=None, aif_table=None, progress=None):
    """Run the whole DCE analysis on arrays; returns a :class:`DCEAnalysis`.

    ``vfa``: (vfa_signal (n_flip, slices, rows, cols), flip_angles_deg) for T1 mapping, or
    ``t10_map`` (slices, rows, cols) in s, or ``settings.fixed_t10_s``. ``aif_mask``: arterial
    ROI for a measured AIF; ``aif_table``: (t_s, plasma mM) for a tabulated AIF.
    """
    settings = (settings or DCESettings()).validated()
    signal_4d = np.asarray(signal_4d, dtype=np.float32)
    t = _check_series(signal_4d, t_s)
    volume_shape = signal_4d.shape[1:]
    acquisition = resolve_acquisition(metadata or {}, provenance, settings)
    tr, flip = acquisition["TR_s"][0], acquisition["flip_angle_deg"][0]
    r1 = acquisition["r1_per_mM_s"][0]
    mask = np.ones(volume_shape, bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != volume_shape:
        raise InputError(f"mask: shape {mask.shape} does not match the DCE volume {volume_shape}")
    if not mask.any():
        raise InputError("mask: no voxel selected")
    if settings.aif_source == "measured" and aif_mask is None:
        raise InputError("AIF source 'measured' needs an arterial ROI (aif_mask)")
    if settings.aif_source == "table" and aif_table is None:
        raise InputError("AIF source 'table' needs an AIF table (time s, plasma concentration mM)")
    warnings = []

    # Voxels whose concentration is needed: the analysis mask, plus arterial candidates.
    if settings.aif_source == "automatic":
        needed = signal_4d.mean(axis=0) > 0
    elif settings.aif_source == "measured":
        aif_mask = np.asarray(aif_mask, bool)
        if aif_mask.shape != volume_shape:
            raise InputError(f"AIF ROI: shape {aif_mask.shape} does not match the DCE volume {volume_shape}")
        needed = mask | aif_mask
    else:
        needed = mask
    curves = np.moveaxis(signal_4d[:, needed], 0, -1)          # (N, T)

    report(progress, 0.05, "T1 mapping")
    if vfa is not None:
        vfa_signal, flip_angles = vfa
        vfa_signal = np.asarray(vfa_signal, dtype=float)
        if vfa_signal.shape[1:] != volume_shape:
            raise InputError(f"VFA series: volume {vfa_signal.shape[1:]} does not match the DCE volume {volume_shape}")
        t1_fit = t1.fit_vfa(np.moveaxis(vfa_signal[:, needed], 0, -1), flip_angles, tr, method=settings.t1_method)
        t10_voxels = t1_fit["T1"]
        t10_source = f"variable flip angle fit ({settings.t1_method}, {len(flip_angles)} angles)"
    elif t10_map is not None:
        t10_map = np.asarray(t10_map, dtype=float)
        if t10_map.shape != volume_shape:
            raise InputError(f"T1 map: shape {t10_map.shape} does not match the DCE volume {volume_shape}")
        t10_voxels = t10_map[needed]
        t10_source = "T1 map"
    elif settings.fixed_t10_s is not None:
        t10_voxels = np.full(curves.shape[0], float(settings.fixed_t10_s))
        t10_source = "fixed T10 (user setting)"
    else:
        raise InputError("no T1 source: give a variable-flip-angle series, a T1 map or a fixed T10")
    acquisition["T10"] = (None, t10_source)

    report(progress, 0.15, "signal to concentration")
    if settings.baseline_frames is not None:
        baseline = np.arange(int(settings.baseline_frames))
        if baseline.size < 1 or baseline.size >= t.size:
            raise InputError(f"baseline frames: {settings.baseline_frames} is not a valid number of frames")
    else:
        baseline = signal.find_baseline_frames(np.moveaxis(signal_4d[:, mask], 0, -1), t)
    with np.errstate(all="ignore"):
        import warnings as python_warnings
        with python_warnings.catch_warnings(record=True) as caught:
            python_warnings.simplefilter("always")
            conc_voxels = signal.spgr_to_concentration(curves, baseline, t10_voxels, tr, flip, r1)
        warnings.extend(str(w.message) for w in caught)
    conc = np.full(volume_shape + (t.size,), np.nan, dtype=np.float32)
    conc[needed] = conc_voxels
    tissue = conc[mask]
    if not np.isfinite(tissue).any():
        raise InputError("concentration: every voxel of the mask is NaN (check T10, TR, flip angle and the baseline)")

    report(progress, 0.25, "arterial input function")
    aif_info = _arterial_input(settings, t, conc, tissue, mask, aif_mask, aif_table, acquisition, signal_4d, baseline)

    report(progress, 0.3, f"fitting {settings.model}")
    fit = kinetics.fit(settings.model, tissue, t, aif_info["cp_mM"], fit_delay=settings.fit_delay,
                       progress=lambda f, m="": report(progress, 0.3 + 0.55 * f, m))
    maps = {}
    status = np.full(volume_shape, fit_status.MASKED, dtype=np.uint8)
    status[mask] = fit["status"]
    for name, values in fit.items():
        if name == "status" or np.ndim(values) != 1:
            continue
        full = np.full(volume_shape, np.nan, dtype=np.float32)
        full[mask] = values
        maps[name] = full
    t10_full = np.full(volume_shape, np.nan, dtype=np.float32)
    t10_full[needed] = t10_voxels
    t10_full[~mask] = np.nan
    maps["T10"] = t10_full

    curve_type = np.zeros(volume_shape, dtype=np.uint8)
    if settings.semi_quantitative:
        report(progress, 0.88, "semi-quantitative metrics")
        arrival = aif_info.get("tissue_arrival_s")
        metrics = semiquant.curve_metrics(tissue, t, arrival_s=arrival, baseline=baseline)
        for name in ("iAUC60", "iAUC90", "TTP_s", "peak_enhancement", "wash_in_slope", "wash_out_slope", "BAT_s", "SER"):
            full = np.full(volume_shape, np.nan, dtype=np.float32)
            full[mask] = metrics[name]
            maps[name] = full
        curve_type[mask] = metrics["curve_type"]

    fitted = None
    if settings.write_fitted_curves:
        params = {k: fit[k] for k in kinetics.MODELS[settings.model]["parameters"] if k in fit}
        if "delay_s" in fit:
            params["delay_s"] = fit["delay_s"]
        fitted = np.full(signal_4d.shape, np.nan, dtype=np.float32)
        fitted[:, mask] = np.moveaxis(kinetics.concentration(settings.model, t, aif_info["cp_mM"], **params), -1, 0)
    report(progress, 1.0, "done")
    return DCEAnalysis(maps=maps, status=status, curve_type=curve_type, mask=mask, t_s=t, aif=aif_info,
                       acquisition=acquisition, settings=settings, baseline_frames=baseline,
                       concentration=np.moveaxis(conc, -1, 0) if settings.write_concentration else None,
                       fitted=fitted, warnings=warnings)


def _arterial_input(settings, t, conc, tissue, mask, aif_mask, aif_table, acquisition, signal_4d, baseline):
    """Plasma AIF on the series' time grid, with where it came from."""
    hct = settings.hematocrit
    tissue_arrival = _arrival_time_s(tissue[np.all(np.isfinite(tissue), axis=1)], t)
    if settings.aif_source == "population":
        function = aif.POPULATION_AIFS[settings.population_aif]
        if settings.aif_delay_s is not None:
            delay, delay_source = float(settings.aif_delay_s), "user setting"
        else:
            delay = max(tissue_arrival - _population_onset_s(function, t), 0.0)
            delay_source = f"bolus arrival in the tissue ({tissue_arrival:.1f} s)"
        cb = function(t, delay)
        return {"t_s": t, "cb_mM": cb, "cp_mM": aif.blood_to_plasma(cb, hct), "tissue_arrival_s": tissue_arrival,
                "source": f"population ({settings.population_aif}), delay {delay:.1f} s from {delay_source}",
                "voxels": None}
    if settings.aif_source == "table":
        table_t, table_cp = (np.asarray(v, dtype=float) for v in aif_table)
        if table_t.size < t.size or table_t[-1] < t[-1] - 1e-3:
            raise InputError(f"AIF table: {table_t.size} points up to {table_t[-1]:g} s is shorter than the "
                             f"series ({t.size} frames up to {t[-1]:g} s)")
        if table_t.size != t.size or not np.allclose(table_t, t, atol=1e-3):
            raise InputError("AIF table: its times are on another grid than the series' frame times")
        return {"t_s": t, "cb_mM": aif.plasma_to_blood(table_cp, hct), "cp_mM": table_cp,
                "tissue_arrival_s": tissue_arrival, "source": "table (CSV)", "voxels": None}
    if settings.aif_source == "measured":
        cp = aif.measured_aif(conc, aif_mask, hct)
        return {"t_s": t, "cb_mM": aif.plasma_to_blood(cp, hct), "cp_mM": cp, "tissue_arrival_s": tissue_arrival,
                "source": f"measured in the arterial ROI ({int(aif_mask.sum())} voxels)",
                "voxels": np.nonzero(aif_mask)}
    # automatic
    candidates = np.isfinite(conc).all(axis=-1)
    detected = aif.detect_aif(conc, t, mask=candidates, n_voxels=settings.aif_voxels, hematocrit=hct)
    return {"t_s": t, "cb_mM": detected["aif_blood"], "cp_mM": detected["aif_plasma"],
            "tissue_arrival_s": tissue_arrival, "source": f"automatic detection ({len(detected['flat_indices'])} voxels)",
            "voxels": detected["indices"], "detection": detected}
