"""The hypoxia analysis on arrays of one grid (slices, rows, cols): R2*/T2*, R2/T2, R2', gas-challenge
change maps, the Perfused-Oxy-R class map. Qt- and MRML-free; the Logic resolves nodes into these
arrays and writes the result as nodes."""
from dataclasses import dataclass, field, replace

import numpy as np

from TMEMonitorLib import plausibility
from TMEMonitorLib.errors import InputError

from . import field_gradient, gas_challenge, hypoxia_map
from .echo_times import checked_echo_times
from .relaxometry import fit_r2, fit_r2star, r2_prime

# Display of every map (quantity, unit, colour map, default range): the project's quantity registry, to
# which quantity_names adds the Hypoxia entries; map_display is a view of it.
from .quantity_names import MAP_NAMES, is_diverging, map_display  # noqa: E402,F401

DIVERGING_MAPS = tuple(name for name in MAP_NAMES if is_diverging(name))


@dataclass
class EchoData:
    signal: np.ndarray              # (echoes, slices, rows, cols), magnitude or complex
    echo_times_s: np.ndarray
    source: str = ""


@dataclass
class DynamicData:
    signal: np.ndarray              # (frames, slices, rows, cols)
    times_s: np.ndarray
    source: str = ""


@dataclass
class T1SeriesData:
    signal: np.ndarray              # (images, slices, rows, cols) of one T1-mapping acquisition
    values: np.ndarray              # inversion times / times after inversion (s) or flip angles (deg)
    source: str = ""                # where the values came from
    tr_s: float = None              # VFA: repetition time (s) from the series metadata


@dataclass
class HypoxiaInputs:
    gre: EchoData = None                    # multi-echo gradient echo (R2*)
    se: EchoData = None                     # multi-echo spin echo (R2)
    field_map_hz: np.ndarray = None
    oe: DynamicData = None                  # dynamic T1-weighted across air -> O2 -> air
    bold: DynamicData = None                # dynamic T2*-weighted across air -> gas -> air
    t1_air_s: np.ndarray = None             # T1 maps before / during gas
    t1_gas_s: np.ndarray = None
    t10_s: np.ndarray = None                # pre-gas T1 map for the OE conversion
    enhancement: np.ndarray = None          # DCE enhancement measure of the same visit
    mask: np.ndarray = None
    t1_series_air: T1SeriesData = None      # T1-mapping acquisitions (IR, Look-Locker or VFA) before / during gas
    t1_series_gas: T1SeriesData = None


@dataclass
class HypoxiaAnalysis:
    settings: object
    shape: tuple
    mask: np.ndarray
    maps: dict = field(default_factory=dict)          # name -> float array (units of the quantity registry)
    status: dict = field(default_factory=dict)        # "R2star", "R2", "R2prime", "dR1", "dR2star" -> uint8
    classes: np.ndarray = None                        # hypoxia_map class labels (uint8) or None
    responders: dict = field(default_factory=dict)    # "dR1" / "dR2star" -> bool map
    echo_times_s: np.ndarray = None
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def _to_voxels_last(array):
    return np.moveaxis(np.asarray(array), 0, -1)


def _check_grid(name, array, shape):
    if array is not None and np.shape(array)[-3:] != tuple(shape):
        raise InputError(f"{name}: grid {np.shape(array)[-3:]} differs from the analysis grid {tuple(shape)}; "
                         "resample it first")


def analyse_hypoxia(inputs, settings, progress=None):
    """Every map the inputs allow; InputError before any computation when inputs disagree."""
    settings = settings.validated()
    grids = [x.signal.shape[1:] for x in (inputs.gre, inputs.se, inputs.oe, inputs.bold) if x is not None]
    grids += [np.shape(x) for x in (inputs.t1_air_s, inputs.t1_gas_s) if x is not None]
    grids += [x.signal.shape[1:] for x in (inputs.t1_series_air, inputs.t1_series_gas) if x is not None]
    if not grids:
        raise InputError("no input: give a multi-echo gradient-echo series, an OE/BOLD dynamic series or T1 maps "
                         "before and during gas")
    shape = tuple(grids[0])
    for name, value in (("spin-echo series", None if inputs.se is None else inputs.se.signal[0]),
                        ("OE dynamic series", None if inputs.oe is None else inputs.oe.signal[0]),
                        ("BOLD dynamic series", None if inputs.bold is None else inputs.bold.signal[0]),
                        ("T1 map before gas", inputs.t1_air_s), ("T1 map during gas", inputs.t1_gas_s),
                        ("field map", inputs.field_map_hz), ("T10 map", inputs.t10_s),
                        ("enhancement map", inputs.enhancement), ("mask", inputs.mask)):
        _check_grid(name, value, shape)
    if (inputs.t1_air_s is None) != (inputs.t1_gas_s is None):
        raise InputError("T1 maps: give both the map before gas and the map during gas")
    _check_t1_series(inputs, shape)
    echo_checks = [(inputs.gre, "gradient-echo echo times (--echo-times)"), (inputs.se, "spin-echo echo times (--se-echo-times)")]
    for data, what in echo_checks:
        if data is not None:
            checked_echo_times(data.echo_times_s, data.signal.shape[0], what)
    if inputs.se is not None and settings.se_model == "epg":
        from .r2_epg import checked_cpmg_echo_times
        checked_cpmg_echo_times(inputs.se.echo_times_s, settings.r2_skip_first_echo,
                                "spin-echo echo times (--se-echo-times)")
    paradigm = None
    if inputs.oe is not None or inputs.bold is not None:
        paradigm = settings.paradigm().validated()
    if inputs.oe is not None:
        if settings.tr_s is None or settings.flip_angle_deg is None:
            raise InputError("OE dynamic series: TR and flip angle are needed (--tr, --flip-angle or series metadata)")
        if inputs.t10_s is None and settings.t10_s is None and inputs.t1_air_s is None:
            raise InputError("OE dynamic series: a pre-gas T1 is needed (--t10 fixed value, --t10-map or --t1-air)")
    if inputs.enhancement is not None and settings.enhancement_threshold is None:
        raise InputError("enhancement map given without a threshold (--enhancement-threshold)")

    mask = np.ones(shape, bool) if inputs.mask is None else np.asarray(inputs.mask, bool)
    analysis = HypoxiaAnalysis(settings=settings, shape=shape, mask=mask)
    options = {"noise_sigma": (settings.noise_sigma if settings.noise_sigma is not None else "auto")
               if settings.noise_floor else None,
               "noise_floor_snr": settings.noise_floor_snr, "r2star_bounds_per_s": (0.0, settings.r2star_max_per_s),
               "min_echoes_used": settings.min_echoes_used}
    if inputs.gre is not None:
        _fit_gre(analysis, inputs, settings, options, progress)
    if inputs.se is not None:
        te = np.asarray(inputs.se.echo_times_s, dtype=float)
        epg = settings.se_model == "epg"
        se_options = dict(options, model="epg", t1_s=settings.se_epg_t1_s) if epg else options
        fit = fit_r2(_to_voxels_last(np.abs(inputs.se.signal)), te, settings.r2star_method
                     if settings.r2star_method != "arlo" else "nonlinear", mask=mask,
                     skip_first_echo=settings.r2_skip_first_echo, **se_options)
        if epg:
            analysis.maps["R2_refocusing_angle"] = fit["refocusing_angle_deg"]
        analysis.maps["R2"] = fit["R2"]
        analysis.maps["T2"] = fit["T2"] * 1000.0
        analysis.status["R2"] = fit["status"]
        analysis.notes.append(f"R2 from {te.size} spin echoes ({inputs.se.source or 'given echo times'}), "
                              + (f"EPG (stimulated echoes fitted, refocusing angle free, T1 {settings.se_epg_t1_s:g} s "
                                 "assumed)" if epg else "mono-exponential, no stimulated-echo correction")
                              + (", first echo left out" if settings.r2_skip_first_echo else ""))
        if "R2star" in analysis.maps:
            analysis.maps["R2prime"], analysis.status["R2prime"] = r2_prime(
                analysis.maps["R2star"], fit["R2"], analysis.status["R2star"], fit["status"])
    t1_fit = None
    if inputs.t1_series_air is not None:
        t1_fit = _fit_t1_series(analysis, inputs, settings, progress)
        inputs = replace(inputs, t1_air_s=t1_fit["T1_air"], t1_gas_s=t1_fit["T1_gas"])
    t10 = inputs.t10_s if inputs.t10_s is not None else (inputs.t1_air_s if inputs.t1_air_s is not None else settings.t10_s)
    if inputs.oe is not None:
        out = gas_challenge.delta_r1_dynamic(_to_voxels_last(inputs.oe.signal), inputs.oe.times_s, paradigm, t10,
                                             settings.tr_s, settings.flip_angle_deg, settings.alpha, mask)
        _store_change(analysis, "dR1", out, inputs.oe, paradigm)
    elif inputs.t1_air_s is not None:
        delta, status = gas_challenge.delta_r1_from_t1(inputs.t1_air_s, inputs.t1_gas_s, *(
            (t1_fit["fit_air"]["status"], t1_fit["fit_gas"]["status"]) if t1_fit is not None else ()))
        status = np.where(mask, status, 3).astype(np.uint8)
        analysis.maps["dR1"] = np.where(mask, delta, np.nan)
        analysis.maps["T1_air"] = np.where(mask, inputs.t1_air_s, np.nan)
        analysis.maps["T1_gas"] = np.where(mask, inputs.t1_gas_s, np.nan)
        analysis.status["dR1"] = status
        analysis.notes.append("Delta R1 = 1/T1(gas) - 1/T1(air) from two T1 "
                              + ("fits" if t1_fit is not None else "maps")
                              + " (no per-voxel significance: one value per epoch)")
    if inputs.bold is not None:
        if settings.dynamic_echo_time_s is None:
            raise InputError("BOLD dynamic series: its echo time is needed (--dynamic-echo-time or series metadata)")
        out = gas_challenge.delta_r2star_dynamic(_to_voxels_last(inputs.bold.signal), inputs.bold.times_s, paradigm,
                                                 settings.dynamic_echo_time_s, settings.alpha, mask)
        _store_change(analysis, "dR2star", out, inputs.bold, paradigm)
    if inputs.enhancement is not None:
        if "dR1" not in analysis.responders:
            raise InputError("hypoxia map: the Perfused-Oxy-R map needs a dynamic OE series (per-voxel significance "
                             "of Delta R1); two T1 maps give no per-voxel test")
        enhancing = hypoxia_map.enhancing_from_map(inputs.enhancement, settings.enhancement_threshold)
        analysed = mask & (analysis.status["dR1"] == 0)
        analysis.classes = hypoxia_map.classify(enhancing, analysis.responders["dR1"], analysed)
        analysis.notes.append(f"Perfused-Oxy-R map: perfused where enhancement > {settings.enhancement_threshold:g}; "
                              f"Oxy-R where Delta R1 is not significantly > 0 (Welch p >= {settings.alpha:g})")
    flag_implausible(analysis)
    return analysis


# Fitted maps whose physically impossible values (limits in the quantity registry, quantity_names.py)
# turn their fit's status to IMPLAUSIBLE, as for the DCE and diffusion fits. R2' and the gas-challenge
# changes may be negative from noise (no limits).
STATUS_MAPS = {"R2star": ("R2star", "T2star"), "R2": ("R2", "T2"), "T1_air": ("T1_air",), "T1_gas": ("T1_gas",)}


def flag_implausible(analysis):
    """Mark IMPLAUSIBLE, in each fit's status map, the voxels where one of its maps is impossible."""
    for name, maps in STATUS_MAPS.items():
        if name in analysis.status:
            analysis.status[name] = plausibility.flag_implausible(
                analysis.status[name], {m: analysis.maps[m] for m in maps if m in analysis.maps})


def _fit_gre(analysis, inputs, settings, options, progress):
    gre = inputs.gre
    te = np.asarray(gre.echo_times_s, dtype=float)
    signal = _to_voxels_last(gre.signal)
    factors = None
    if settings.field_gradient_correction:
        if inputs.field_map_hz is not None:
            factors = field_gradient.sinc_factors(field_gradient.spread_from_field_map(inputs.field_map_hz), te)
            analysis.notes.append("macroscopic field-gradient (sinc) correction from the given field map")
        elif np.iscomplexobj(signal):
            factors = field_gradient.sinc_factors(field_gradient.spread_from_complex(signal, te), te)
            analysis.notes.append("macroscopic field-gradient (sinc) correction from the complex echoes 1-2")
    fit = fit_r2star(np.abs(signal), te, settings.r2star_method, mask=analysis.mask, gradient_factors=factors,
                     progress=progress, **options)
    analysis.echo_times_s = te
    analysis.maps["R2star"] = fit["R2star"]
    analysis.maps["T2star"] = fit["T2star"] * 1000.0
    analysis.maps["S0"] = fit["S0"]
    analysis.maps["R2star_r2"] = fit["r2"]
    analysis.maps["R2star_n_echoes"] = np.where(analysis.mask, fit["n_echoes_used"], np.nan).astype(float)
    analysis.status["R2star"] = fit["status"]
    analysis.notes.append(f"R2* ({settings.r2star_method}) from {te.size} echoes, TE "
                          f"{', '.join(f'{v * 1e3:g}' for v in te)} ms ({gre.source or 'given echo times'}); "
                          f"noise floor: {fit['noise_sigma_source']}"
                          + (f" (sigma {fit['noise_sigma']:.4g})" if isinstance(fit["noise_sigma"], float) else ""))
    analysis.noise_sigma = fit["noise_sigma"]


def _store_change(analysis, name, out, data, paradigm):
    analysis.maps[name] = out[name]
    analysis.maps[f"{name}_p"] = out["p"]
    analysis.status[name] = out["status"]
    analysis.responders[name] = out["responder"]
    t = np.asarray(data.times_s, dtype=float)
    analysis.notes.append(
        f"{name}: {paradigm.gas}, baseline frames {t[out['baseline_frames']][0]:g}-{t[out['baseline_frames']][-1]:g} s, "
        f"gas frames {t[out['gas_frames']][0]:g}-{t[out['gas_frames']][-1]:g} s (wash-in {paradigm.wash_in_s:g} s; "
        f"times from {data.source or 'given frame times'})")


T1_SERIES_NAMES = {"vfa": "variable flip angle", "ir": "inversion recovery (RD-NLS, polarity restored)",
                   "look-locker": "Look-Locker, T1 = T1* (B/A - 1)"}


def _check_t1_series(inputs, shape):
    """InputError unless the T1 series come as a pair on the analysis grid, without T1 maps."""
    air, gas = inputs.t1_series_air, inputs.t1_series_gas
    if air is None and gas is None:
        return
    if (air is None) != (gas is None):
        raise InputError("T1 series: give both the acquisition before gas and the one during gas "
                         "(--t1-air-series and --t1-gas-series)")
    if inputs.t1_air_s is not None:
        raise InputError("T1 before / during gas: give either T1 maps (--t1-air/--t1-gas) or T1 series "
                         "(--t1-air-series/--t1-gas-series), not both")
    for name, data in (("T1 series before gas", air), ("T1 series during gas", gas)):
        _check_grid(name, data.signal[0], shape)
        if data.values is None:
            raise InputError(f"{name}: its inversion times / flip angles are missing (metadata or typed)")
        if np.size(data.values) != data.signal.shape[0]:
            raise InputError(f"{name}: {np.size(data.values)} inversion time(s) / flip angle(s) for "
                             f"{data.signal.shape[0]} images")


def _fit_t1_series(analysis, inputs, settings, progress):
    """T1 before and during gas fitted from the two series; maps, statuses and a note on the analysis."""
    air, gas = inputs.t1_series_air, inputs.t1_series_gas
    method = settings.t1_method
    tr = settings.vfa_tr_s if settings.vfa_tr_s is not None else (air.tr_s if air.tr_s == gas.tr_s else None)
    if method == "vfa" and tr is None:
        raise InputError("VFA T1 series: the repetition time is needed and the two series do not give one "
                         "TR (--vfa-tr, s)")
    fit = gas_challenge.t1_before_during(_to_voxels_last(np.abs(air.signal) if method == "vfa" else air.signal),
                                         _to_voxels_last(np.abs(gas.signal) if method == "vfa" else gas.signal),
                                         np.asarray(air.values, float), np.asarray(gas.values, float), method,
                                         analysis.mask, tr, settings.vfa_fit)
    unit = "deg" if method == "vfa" else "ms"
    scale = 1.0 if method == "vfa" else 1e3
    for epoch, data in (("air", air), ("gas", gas)):
        analysis.maps[f"T1_{epoch}"] = np.where(analysis.mask, fit[f"T1_{epoch}"], np.nan)
        analysis.status[f"T1_{epoch}"] = fit[f"fit_{epoch}"]["status"]
        analysis.maps[f"T1_{epoch}_r2"] = fit[f"fit_{epoch}"]["r2"]
        analysis.notes.append(
            f"T1 on {epoch}: {T1_SERIES_NAMES[method]}"
            + (f" ({settings.vfa_fit}, TR {tr * 1e3:g} ms)" if method == "vfa" else "")
            + f" from {np.size(data.values)} images at {', '.join(f'{v * scale:g}' for v in data.values)} {unit} "
            f"({data.source or 'given values'})")
    if inputs.oe is not None:
        analysis.notes.append("Delta R1 from the OE dynamic series; the T1 fit on air is its pre-gas T1 unless a "
                              "T10 map is given")
    return fit
