"""The diffusion analysis on arrays: multi-b series -> ADC / IVIM / kurtosis maps and computed high-b images.

Arrays of a series are (n_b, slices, rows, cols); the models work on (..., n_b). Only voxels
inside the mask are fitted; everything is checked before anything is written.
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from . import models
from .settings import DiffusionSettings

# map name -> (quantity, unit, colour map)
MAP_DISPLAY = {
    "ADC": ("ADC", "mm2/s", "viridis"), "D": ("D", "mm2/s", "viridis"), "f": ("f", "", "magma"),
    "Dstar": ("Dstar", "mm2/s", "magma"), "K": ("K", "", "inferno"), "D_kurtosis": ("D (kurtosis)", "mm2/s", "viridis"),
    "S0": ("S0", "a.u.", "viridis"),
}


@dataclass
class DiffusionAnalysis:
    maps: dict
    status: dict                    # model -> status map
    high_b: dict                    # b -> computed image
    mask: np.ndarray
    b_values: np.ndarray
    settings: DiffusionSettings
    notes: list = field(default_factory=list)


def analyse_dwi(signal_4d, b_values, settings=None, mask=None, noise_sigma=None, progress=None):
    settings = (settings or DiffusionSettings()).validated()
    signal_4d = np.asarray(signal_4d, dtype=float)
    if signal_4d.ndim != 4:
        raise InputError(f"DWI series: expected (n_b, slices, rows, cols), got shape {signal_4d.shape}")
    b = np.asarray(b_values, dtype=float)
    if b.size != signal_4d.shape[0]:
        raise InputError(f"DWI series: {signal_4d.shape[0]} frames but {b.size} b-values")
    volume = signal_4d.shape[1:]
    mask = np.ones(volume, bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != volume:
        raise InputError(f"mask: shape {mask.shape} does not match the DWI volume {volume}")
    if not np.any(signal_4d[:, mask]):
        raise InputError("DWI series: the signal is zero everywhere in the mask")
    notes = []
    curves = np.moveaxis(signal_4d[:, mask], 0, -1)
    if np.unique(np.round(b)).size < b.size:
        curves, b = models.average_directions(curves, b)
        notes.append(f"several directions per b-value averaged to the trace (geometric mean); b = {b.tolist()}")
    if np.unique(np.round(b)).size < 2:
        raise InputError(f"DWI series: a single b-value ({b[0]:g} s/mm2) cannot give diffusion maps")
    sigma = None
    if settings.rician_correction:
        sigma = settings.noise_sigma if settings.noise_sigma is not None else noise_sigma
        if sigma is None:
            raise InputError("Rician correction needs the noise level (noise_sigma)")
    options = dict(clip_value=settings.clip_value, floor=settings.noise_floor, noise_sigma=sigma)
    maps, status, high_b = {}, {}, {}

    def scatter(values):
        out = np.full(volume, np.nan, dtype=np.float32)
        out[mask] = values
        return out

    def scatter_status(values):
        out = np.full(volume, fit_status.MASKED, dtype=fit_status.DTYPE)
        out[mask] = values
        return out

    steps = [m for m, on in (("adc", settings.fit_adc), ("ivim", settings.fit_ivim), ("kurtosis", settings.fit_kurtosis)) if on]
    fitted = {}
    for index, model in enumerate(steps):
        step = (lambda i: lambda f, m="": report(progress, (i + f) / len(steps), f"{model}: {m}"))(index)
        if model == "adc":
            result = models.fit_adc(curves, b, method=settings.adc_method, b_min=settings.adc_b_min,
                                    b_max=settings.adc_b_max, progress=step, **options)
            maps["ADC"] = scatter(result["ADC"])
            maps["S0"] = scatter(result["S0"])
            maps["se_ADC"] = scatter(result["se_ADC"])
            maps["rmse_ADC"] = scatter(result["rmse"])
            notes.append(f"ADC ({settings.adc_method}) over b = {result['b_range'][0]:g}-{result['b_range'][1]:g} s/mm2")
        elif model == "ivim":
            result = models.fit_ivim(curves, b, method=settings.ivim_method, b_threshold=settings.ivim_b_threshold,
                                     progress=step, **options)
            for name in ("D", "f", "Dstar", "se_D", "se_f", "se_Dstar"):
                maps[name] = scatter(result[name])
            maps["rmse_IVIM"] = scatter(result["rmse"])
            maps.setdefault("S0", scatter(result["S0"]))
            notes.append(f"IVIM ({settings.ivim_method}), threshold b = {settings.ivim_b_threshold:g} s/mm2")
        else:
            result = models.fit_kurtosis(curves, b, progress=step, **options)
            maps["K"] = scatter(result["K"])
            maps["D_kurtosis"] = scatter(result["D"])
        status[model] = scatter_status(result["status"])
        fitted[model] = result
        maps[f"excluded_samples_{model}"] = scatter(result["n_excluded"])
    for value in settings.high_b_values or ():
        source = "ivim" if "ivim" in fitted else steps[0]
        r = fitted[source]
        params = {"adc": {"S0": r.get("S0"), "ADC": r.get("ADC")},
                  "ivim": {"S0": r.get("S0"), "D": r.get("D"), "f": r.get("f"), "Dstar": r.get("Dstar")},
                  "kurtosis": {"S0": r.get("S0"), "D": r.get("D"), "K": r.get("K")}}[source]
        high_b[float(value)] = scatter(models.predict_signal(source, [value], **params)[..., 0])
    report(progress, 1.0, "done")
    return DiffusionAnalysis(maps=maps, status=status, high_b=high_b, mask=mask, b_values=b, settings=settings,
                             notes=notes)
