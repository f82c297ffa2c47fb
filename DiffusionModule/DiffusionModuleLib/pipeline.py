"""The diffusion analysis on arrays: multi-b series -> ADC / IVIM / kurtosis maps and computed high-b images.

No MRML here: ``logic.py`` resolves nodes into arrays, calls :func:`analyse_dwi` and writes the
result into the scene; the command line does the same from files. Every input and every
model's b-value requirement is checked before any fit, so bad input fails fast and leaves
nothing behind. Arrays of a series are (n_b, slices, rows, cols); the models work on (..., n_b)
and only the voxels inside the mask are fitted (one vectorised call per model).
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import fit_acceptance
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report
from TMEMonitorLib.quantities import display_triple

from . import models
from .settings import KURTOSIS_MIN_B_MAX, MAX_B, DiffusionSettings

# IVIM needs a low-b reference for S0 and f: lowest b at most this (s/mm2).
IVIM_LOW_B_REFERENCE = 50.0
# Background for the noise estimate: b0 below this fraction of its 99th percentile, then
# refined to b0 < BACKGROUND_SIGMAS x sigma (a Rayleigh sample exceeds 5 sigma with p = 4e-6).
BACKGROUND_FRACTION = 0.05
BACKGROUND_SIGMAS = 5.0
MIN_BACKGROUND_VOXELS = 50
# Median of a Rayleigh distribution = sigma sqrt(2 ln 2) (pure-noise magnitude background;
# Gudbjartsson & Patz, MRM 1995, doi:10.1002/mrm.1910340618).
RAYLEIGH_MEDIAN = float(np.sqrt(2.0 * np.log(2.0)))
# Relative cost of each model, to share the progress bar.
MODEL_WEIGHTS = {"adc": 1.0, "ivim": 3.0, "kurtosis": 2.0}
MODEL_LABELS = {"adc": "ADC", "ivim": "IVIM", "kurtosis": "kurtosis"}

DIFFUSION_MAPS = ("ADC", "D", "f", "Dstar", "K", "D_kurtosis", "S0", "S0_IVIM", "S0_kurtosis")
# map name -> (quantity, unit, colour map), from the quantity registry (TMEMonitorLib.quantities)
MAP_DISPLAY = {name: display_triple(name) for name in DIFFUSION_MAPS}


def map_display(name):
    """(quantity, unit, colour map) of an output map, including the standard-error and quality maps."""
    return display_triple(name)


@dataclass
class DiffusionAnalysis:
    maps: dict                      # name -> (slices, rows, cols) float32, NaN outside the mask or where a fit failed
    map_models: dict                # map name -> model that produced it ("adc", "ivim", "kurtosis")
    status: dict                    # model -> (slices, rows, cols) uint8 fit status
    high_b: dict                    # b (s/mm2) -> computed DWI image (float32, NaN outside the mask)
    high_b_model: str               # model the computed images come from
    mask: np.ndarray
    b_values: np.ndarray            # b-values fitted (one per distinct b after direction averaging)
    b_values_frames: np.ndarray     # b-value of each frame, as given
    b_ranges: dict                  # model -> (lowest, highest) b used, s/mm2
    directions_averaged: bool
    excluded: dict                  # model -> samples excluded inside the mask (clipped, floor, not positive)
    settings: DiffusionSettings
    noise_sigma: float = None       # Rician correction: sigma used (signal units)
    noise_sigma_source: str = ""
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def _distinct(b):
    return np.unique(np.round(np.asarray(b, dtype=float)))


def check_inputs(signal_4d, b_values, mask=None):
    """(signal (n_b, slices, rows, cols) float, b-values, mask bool) after the shape and value checks."""
    signal = np.asarray(signal_4d)
    if not np.issubdtype(signal.dtype, np.floating):
        signal = signal.astype(np.float32)      # float32 is exact for scanner integers; models work in float64
    if signal.ndim != 4:
        raise InputError(f"DWI series: expected (n_b, slices, rows, cols), got shape {signal.shape}")
    b = np.asarray(b_values, dtype=float).ravel()
    if b.size != signal.shape[0]:
        raise InputError(f"b-values: {b.size} values for {signal.shape[0]} DWI frames")
    if not np.all(np.isfinite(b)) or np.any(b < 0) or np.any(b > MAX_B):
        raise InputError(f"b-values must lie in [0, {MAX_B:g}] s/mm2; got {b.tolist()}")
    if _distinct(b).size < 2:
        raise InputError(f"DWI series: a single b-value ({b[0]:g} s/mm2) cannot give diffusion maps; "
                         "at least two distinct b-values are needed")
    volume = signal.shape[1:]
    if mask is None:
        mask = np.ones(volume, bool)
    else:
        mask = np.asarray(mask, bool)
        if mask.shape != volume:
            raise InputError(f"mask: shape {mask.shape} does not match the DWI volume {volume}")
        if not mask.any():
            raise InputError("mask: no voxel is selected")
    if not np.any(np.nan_to_num(signal[:, mask]) != 0):
        raise InputError("DWI series: the signal is zero everywhere in the analysed region")
    return signal, b, mask


def check_model_requirements(b, settings):
    """InputError naming the model and the b-values it lacks (``b``: the distinct b-values fitted)."""
    b = _distinct(b)
    if settings.fit_adc:
        low = settings.adc_b_min if settings.adc_b_min is not None else 0.0
        high = settings.adc_b_max if settings.adc_b_max is not None else MAX_B
        kept = b[(b >= low) & (b <= high)]
        if kept.size < 2:
            raise InputError(f"ADC: the b-range [{low:g}, {high:g}] s/mm2 keeps {kept.size} b-value(s) of "
                             f"{b.tolist()}; at least two are needed")
    if settings.fit_ivim:
        threshold = settings.ivim_b_threshold
        below, above = b[b < threshold], b[b >= threshold]
        if b.min() > IVIM_LOW_B_REFERENCE:
            raise InputError(f"IVIM needs a low-b reference (b = 0 or up to {IVIM_LOW_B_REFERENCE:g} s/mm2); "
                             f"the lowest b is {b.min():g}")
        if below.size < 2:
            raise InputError(f"IVIM needs at least two b-values below the threshold {threshold:g} s/mm2 (the "
                             f"perfusion range); got {below.tolist()}")
        if above.size < 2:
            raise InputError(f"IVIM needs at least two b-values at or above the threshold {threshold:g} s/mm2; "
                             f"got {above.tolist()}")
    if settings.fit_kurtosis:
        top = b.max() if settings.kurtosis_b_max is None else b[b <= settings.kurtosis_b_max].max(initial=0.0)
        if top < KURTOSIS_MIN_B_MAX:
            raise InputError(f"kurtosis needs b-values up to at least {KURTOSIS_MIN_B_MAX:g} s/mm2 (ideally "
                             f"2000-3000); the highest used is {top:g}")
        if np.count_nonzero(b <= top) < 3:
            raise InputError(f"kurtosis needs at least three distinct b-values; got {b[b <= top].tolist()}")


def estimate_background_sigma(signal_4d, b_values):
    """(sigma, voxel count): magnitude-noise SD from the image background (pure Rayleigh noise there).

    The background is where the lowest-b image is small (and not an exact zero, which marks
    zero-filled padding); sigma = median / sqrt(2 ln 2) over every frame of those voxels, refined
    once on b0 < 5 sigma. Valid for single-channel magnitude data; for multi-coil or parallel
    imaging, give a measured sigma instead (the background is then not Rayleigh).
    """
    signal = np.asarray(signal_4d)
    b0 = signal[int(np.argmin(b_values))].astype(float)
    finite = np.isfinite(b0) & (b0 > 0)
    if not finite.any():
        raise InputError("noise estimate: the lowest-b image has no positive voxel")
    background = finite & (b0 < BACKGROUND_FRACTION * np.percentile(b0[finite], 99))
    sigma = None
    for _ in range(2):
        if background.sum() < MIN_BACKGROUND_VOXELS:
            raise InputError(f"noise estimate: only {int(background.sum())} background voxels (at least "
                             f"{MIN_BACKGROUND_VOXELS} needed); give the noise sigma for the Rician correction")
        values = signal[:, background].astype(float)
        sigma = float(np.median(values[np.isfinite(values)]) / RAYLEIGH_MEDIAN)
        background = finite & (b0 < BACKGROUND_SIGMAS * sigma)
    return sigma, int(background.sum())


def _resolve_sigma(settings, signal, b, noise_sigma, noise_sigma_source):
    if not settings.rician_correction:
        return None, ""
    if settings.noise_sigma is not None:
        return float(settings.noise_sigma), "user setting"
    if noise_sigma is not None:
        if not float(noise_sigma) > 0:
            raise InputError(f"noise sigma {noise_sigma} ({noise_sigma_source or 'series metadata'}) must be positive")
        return float(noise_sigma), noise_sigma_source or "series metadata"
    sigma, count = estimate_background_sigma(signal, b)
    return sigma, f"estimated from {count} background voxels (Rayleigh median)"


def _fit(model, curves, b, settings, options, progress):
    if model == "adc":
        return models.fit_adc(curves, b, method=settings.adc_method, b_min=settings.adc_b_min,
                              b_max=settings.adc_b_max, progress=progress, **options)
    if model == "ivim":
        return models.fit_ivim(curves, b, method=settings.ivim_method, b_threshold=settings.ivim_b_threshold,
                               progress=progress, **options)
    return models.fit_kurtosis(curves, b, b_max=settings.kurtosis_b_max, progress=progress, **options)


# model -> [(fit output name, map name)]; S0 of the first model fitted is "S0".
_OUTPUTS = {
    "adc": [("ADC", "ADC"), ("se_ADC", "se_ADC"), ("S0", "S0"), ("rmse", "rmse_ADC"), ("r2", "r2_ADC")],
    "ivim": [("D", "D"), ("f", "f"), ("Dstar", "Dstar"), ("se_D", "se_D"), ("se_f", "se_f"),
             ("se_Dstar", "se_Dstar"), ("S0", "S0_IVIM"), ("rmse", "rmse_IVIM"), ("r2", "r2_IVIM")],
    "kurtosis": [("K", "K"), ("D", "D_kurtosis"), ("se_K", "se_K"), ("se_D", "se_D_kurtosis"),
                 ("S0", "S0_kurtosis"), ("rmse", "rmse_kurtosis"), ("r2", "r2_kurtosis")],
}
# Parameters predict_signal takes from each model's fit.
_PREDICT = {"adc": ("S0", "ADC"), "ivim": ("S0", "D", "f", "Dstar"), "kurtosis": ("S0", "D", "K")}


def analyse_dwi(signal_4d, b_values, settings=None, mask=None, noise_sigma=None, noise_sigma_source=None,
                progress=None):
    """Fit the chosen models to a multi-b series; returns a :class:`DiffusionAnalysis` (arrays only).

    ``noise_sigma`` (with where it came from) is used for the Rician correction when the settings
    give none; without either, sigma is estimated from the image background.
    """
    settings = (settings or DiffusionSettings()).validated()
    signal, b_frames, mask = check_inputs(signal_4d, b_values, mask)
    volume = signal.shape[1:]
    notes, warnings = [], []
    curves = np.moveaxis(signal[:, mask], 0, -1)         # (voxels, n_b): only the masked voxels
    b = b_frames
    averaged = _distinct(b_frames).size < b_frames.size
    if averaged:
        curves, b = models.average_directions(curves, b_frames)
        counts = {float(v): int(np.count_nonzero(np.round(b_frames) == v)) for v in b}
        repeated = ", ".join(f"b={v:g}: {n}" for v, n in counts.items() if n > 1)
        notes.append(f"frames sharing a b-value averaged to the trace (geometric mean; {repeated})")
    check_model_requirements(b, settings)
    sigma, sigma_source = _resolve_sigma(settings, signal, b_frames, noise_sigma, noise_sigma_source)
    if sigma is not None:
        notes.append(f"Rician bias corrected with sigma = {sigma:.4g} ({sigma_source})")
    options = dict(clip_value=settings.clip_value, floor=settings.noise_floor, noise_sigma=sigma)

    def scatter(values, fill=np.nan, dtype=np.float32):
        out = np.full(volume, fill, dtype=dtype)
        out[mask] = values
        return out

    maps, map_models, status, b_ranges, excluded, fits = {}, {}, {}, {}, {}, {}
    # A signal that does not fall from the lowest to the highest b (constant, rising, or wrapped
    # int16) is not diffusion: its voxels are flagged NOT_EXPLAINED by every model.
    not_decaying = fit_acceptance.not_decaying(curves, b)
    if not_decaying.size and not_decaying.mean() > 0.5:
        warnings.append(f"the signal does not decrease with b in {not_decaying.mean():.0%} of the voxels "
                        f"(b = {b.min():g} -> {b.max():g} s/mm2): check the b-value order, the scaling "
                        "(integer overflow) or whether this is a diffusion series")
    steps = settings.models
    total = sum(MODEL_WEIGHTS[m] for m in steps)
    done = 0.0
    for model in steps:
        start, share = done / total, MODEL_WEIGHTS[model] / total
        step = (lambda s, w, label: lambda f, m="": report(progress, s + w * f, f"{label}: {m}"))(
            start, share, MODEL_LABELS[model])
        report(progress, start, f"{MODEL_LABELS[model]} fit")
        result = _fit(model, curves, b, settings, options, step)
        # ... nor one whose fall from the lowest to the highest b is within 3x the fit's RMSE (noise)
        flat = fit_acceptance.not_decaying(curves, b, noise=result["rmse"]) if "rmse" in result else not_decaying
        result["status"] = fit_acceptance.judge(result["status"], result["r2"], not_model_like=flat)
        for key, _ in _OUTPUTS[model]:           # NaN in every map of a voxel whose fit is not accepted
            result[key] = fit_acceptance.blank(result[key], result["status"])
        unexplained = float(np.mean(result["status"] == fit_status.NOT_EXPLAINED)) if result["status"].size else 0.0
        if unexplained > 0.5:
            warnings.append(f"{MODEL_LABELS[model]}: the fit explains nothing in {unexplained:.0%} of the voxels "
                            "(no fall with b beyond the noise, or R2 <= 0); their maps are NaN (status map)")
        fits[model] = result
        for key, name in _OUTPUTS[model]:
            if name == f"S0_{MODEL_LABELS[model]}" and "S0" not in maps:
                name = "S0"
            maps[name] = scatter(result[key])
            map_models[name] = model
        status[model] = scatter(result["status"], fit_status.MASKED, fit_status.DTYPE)
        n_excluded = result.get("n_excluded")
        excluded[model] = int(np.nansum(n_excluded)) if n_excluded is not None else 0
        if excluded[model]:
            maps[f"excluded_{MODEL_LABELS[model]}"] = scatter(n_excluded)
            map_models[f"excluded_{MODEL_LABELS[model]}"] = model
        b_ranges[model] = _used_range(model, result, b, settings)
        done += MODEL_WEIGHTS[model]
    notes += _model_notes(settings, b_ranges, excluded)
    high_b, high_b_model = {}, ""
    if settings.high_b_values:
        high_b_model = _high_b_model(fits, b_ranges, max(settings.high_b_values))
        params = {k: fits[high_b_model][k] for k in _PREDICT[high_b_model]}
        values = np.asarray(settings.high_b_values, dtype=float)
        predicted = models.predict_signal(high_b_model, values, **params)
        for index, value in enumerate(values):
            high_b[float(value)] = scatter(predicted[..., index])
        beyond = (f", extrapolated beyond the highest measured b ({b.max():g})" if values.max() > b.max() else "")
        # Computed DWI extrapolates the fitted decay by design (Blackledge et al., Radiology 2011,
        # doi:10.1148/radiol.11101919), so going beyond the measured b is a note, not a warning.
        notes.append(f"computed b = {', '.join(f'{v:g}' for v in values)} s/mm2 from the {MODEL_LABELS[high_b_model]} "
                     f"fit{beyond}")
    report(progress, 1.0, "diffusion maps done")
    return DiffusionAnalysis(maps=maps, map_models=map_models, status=status, high_b=high_b,
                             high_b_model=high_b_model, mask=mask, b_values=np.asarray(b, dtype=float),
                             b_values_frames=b_frames, b_ranges=b_ranges, directions_averaged=averaged,
                             excluded=excluded, settings=settings, noise_sigma=sigma, noise_sigma_source=sigma_source,
                             notes=notes, warnings=warnings)


def _used_range(model, result, b, settings):
    if "b_range" in result:
        return tuple(float(v) for v in result["b_range"])
    if model == "kurtosis" and settings.kurtosis_b_max is not None:
        return float(b.min()), float(b[b <= settings.kurtosis_b_max].max())
    return float(b.min()), float(b.max())


def _model_notes(settings, b_ranges, excluded):
    notes = []
    for model, (low, high) in b_ranges.items():
        method = {"adc": settings.adc_method, "ivim": settings.ivim_method, "kurtosis": "bounded nonlinear"}[model]
        extra = f", threshold b = {settings.ivim_b_threshold:g} s/mm2" if model == "ivim" else ""
        default = " (default: every b)" if model == "adc" and settings.adc_b_min is None \
            and settings.adc_b_max is None else ""
        notes.append(f"{MODEL_LABELS[model]} ({method}) over b = {low:g}-{high:g} s/mm2{default}{extra}")
        if excluded.get(model):
            notes.append(f"{MODEL_LABELS[model]}: {excluded[model]} samples excluded (clipped, under the noise floor "
                         "or not positive)")
    return notes


def _high_b_model(fits, b_ranges, highest):
    """Kurtosis when fitted over a range reaching the computed b, else IVIM (perfusion-free decay), else ADC."""
    if "kurtosis" in fits and highest <= b_ranges["kurtosis"][1]:
        return "kurtosis"
    for model in ("ivim", "adc", "kurtosis"):
        if model in fits:
            return model
    raise InputError("computed high-b images need a fitted model")
