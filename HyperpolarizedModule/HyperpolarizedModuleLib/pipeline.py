"""The hyperpolarized analysis on arrays of one 13C grid: checks, noise and SNR, the kinetic fit,
model-free metrics. Arrays are (frames, slices, rows, cols) as the readers give them."""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st

from . import flip_angles, kinetics, model_free, noise, quantity_names
from .input_function import fit_kpl_with_input
from .settings import HyperpolarizedSettings

# display of each map (quantity, unit, colour map): the quantity registry (quantity_names.py);
# the maps stay on the coarse 13C grid
MAP_DISPLAY = quantity_names.MAP_DISPLAY
map_display = quantity_names.map_display


@dataclass
class HyperpolarizedAnalysis:
    maps: dict                          # name -> (k, j, i)
    status: np.ndarray                  # uint8 (k, j, i)
    mask: np.ndarray                    # bool (k, j, i): voxels analysed
    times_s: np.ndarray                 # frame times, s from the first frame
    curves: dict                        # metabolite -> (T, k, j, i) measured signal (real)
    fitted: dict                        # metabolite -> (T, k, j, i) fitted signal
    settings: HyperpolarizedSettings
    noise_sigma: float = None
    noise_source: str = ""
    notes: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)


def _checked_curves(series):
    if "pyruvate" not in series or "lactate" not in series:
        raise InputError("pyruvate and lactate series are both needed (--pyruvate, --lactate)")
    reference = np.asarray(series["pyruvate"])
    if reference.ndim != 4:
        raise InputError(f"pyruvate: expected (frames, slices, rows, cols), got shape {reference.shape}")
    for name, array in series.items():
        array = np.asarray(array)
        if array.shape[0] != reference.shape[0]:
            raise InputError(f"{name}: {array.shape[0]} frames, the pyruvate series has {reference.shape[0]} "
                             "(every metabolite needs the same frames)")
        if array.shape != reference.shape:
            raise InputError(f"{name}: grid {array.shape[1:]} differs from the pyruvate grid {reference.shape[1:]}")
    if reference.shape[0] < 3:
        raise InputError(f"pyruvate: {reference.shape[0]} frames; dynamic data need at least 3")
    return {name: np.moveaxis(np.asarray(a), 0, -1) for name, a in series.items()}


def analyse_hyperpolarized(series, settings, frame_times_s=None, flips=None, mask=None, progress=None,
                           provenance=None, noise_estimate=None):
    """Fit ``series`` {metabolite: (T, k, j, i)} and return a :class:`HyperpolarizedAnalysis`.

    ``frame_times_s`` (T,) give the TR when ``settings.tr_s`` is None; ``flips`` {metabolite:
    schedule in degrees} are used where the settings give none. ``noise_estimate`` (sigma, where it came from) is used
    when the settings give no sigma (amplitudes of fitted spectra: their standard error); else sigma is
    estimated from the data. InputError before any output."""
    settings = (settings or HyperpolarizedSettings()).validated()
    provenance = dict(provenance or {})
    curves = _checked_curves(series)
    pyr = curves["pyruvate"]
    n_frames = pyr.shape[-1]
    if settings.tr_s is not None:
        dt = float(settings.tr_s)
        provenance.setdefault("TR", "settings (--tr)")
    elif frame_times_s is not None and len(frame_times_s) == n_frames:
        dt = np.diff(np.asarray(frame_times_s, dtype=float))
        if np.allclose(dt, dt[0], rtol=1e-6):
            dt = float(dt[0])
        provenance.setdefault("TR", "frame times of the pyruvate series")
    else:
        raise InputError("TR missing: give the time between frames (--tr, s) or a series with frame times")
    schedules = {}
    for metabolite in curves:
        schedule = settings.flip_schedule(metabolite, n_frames)
        where = f"settings (--flip-{metabolite}, unit {settings.flip_unit})"
        if schedule is None and flips and flips.get(metabolite) is not None:
            schedule = flips[metabolite]
            where = provenance.get(f"flip_{metabolite}", "series metadata (degrees)")
        if schedule is None:
            raise InputError(f"flip angle of {metabolite} missing: give --flip-{metabolite} (degrees; scalar, per "
                             "frame or per frame and excitation)")
        # checked here so that the message names where the schedule came from (a CLI flag, a file, ...)
        schedules[metabolite] = flip_angles.checked_schedule(schedule, n_frames, f"{metabolite} flip angles", where)
        provenance[f"flip_{metabolite}"] = where
    shape = pyr.shape[:-1]
    analysed = np.ones(shape, bool) if mask is None else np.asarray(mask, bool)
    if analysed.shape != shape:
        raise InputError(f"mask: grid {analysed.shape} differs from the 13C grid {shape}")
    complex_data = np.iscomplexobj(pyr)
    real = {}
    imaginary = None
    for name, array in curves.items():
        if complex_data:
            real[name], imag = noise.phase_to_real(array)
            imaginary = imag if name == "pyruvate" else imaginary
        else:
            real[name] = np.asarray(array, dtype=float)
    if settings.noise_sigma is not None:
        sigma, source = float(settings.noise_sigma), "settings (--noise-sigma)"
    elif noise_estimate is not None:
        sigma, source = float(noise_estimate[0]), str(noise_estimate[1])
    else:
        background = ~analysed if mask is not None and (~analysed).sum() >= 5 else None
        sigma, source = noise.estimate_sigma(real["pyruvate"], background=background, magnitude=not complex_data,
                                             imaginary=imaginary)
    snr = noise.snr_map(real["pyruvate"], sigma)
    if not np.any(snr[analysed] >= settings.min_snr):
        raise InputError(f"pyruvate never rises above the noise: no analysed voxel reaches a peak SNR of "
                         f"{settings.min_snr:g} (noise sigma {sigma:.4g} from {source})")
    notes = [f"noise sigma {sigma:.4g} from {source}", f"TR from {provenance['TR']}"]
    notes += [f"{m} flip angles (deg) from {provenance[f'flip_{m}']}" for m in schedules]
    times = np.concatenate([[0.0], np.cumsum(np.broadcast_to(dt, (n_frames - 1,)))])
    if settings.model == "inputless":
        extra = {f"flip_{m}_deg": schedules[m] for m in ("bicarbonate", "alanine") if m in schedules}
        fit = kinetics.fit_kpl(curves["pyruvate"], curves["lactate"], dt, schedules["pyruvate"], schedules["lactate"],
                               r1_pyruvate=settings.r1_pyruvate_per_s, r1_lactate=settings.r1_lactate_per_s,
                               fit_r1_lactate=settings.fit_r1_lactate, fit_r1_pyruvate=settings.fit_r1_pyruvate,
                               mask=analysed, bicarbonate=curves.get("bicarbonate"), alanine=curves.get("alanine"),
                               noise_model=settings.noise_model, noise_sigma=sigma, min_snr=settings.min_snr,
                               flip_unit_source="the flip schedules above", progress=progress, **extra)
        notes += fit["notes"]
        fitted = {m: fit[f"{m}_fit"] for m in ("lactate", "bicarbonate", "alanine") if f"{m}_fit" in fit}
        maps = {n: fit[n] for n in fit if n not in ("status", "notes", "parameters_fitted", "snr")
                and not n.endswith("_fit")}
    else:
        fit = fit_kpl_with_input(real["pyruvate"], real["lactate"], dt, schedules["pyruvate"], schedules["lactate"],
                                 settings.r1_pyruvate_per_s, settings.r1_lactate_per_s, input_shape=settings.model,
                                 mask=analysed, progress=progress)
        low = analysed & (snr < settings.min_snr)
        fit["status"][low] = st.NO_SIGNAL
        for name in fit:
            if not name.endswith("_fit") and name != "status":
                fit[name][low] = np.nan
        fitted = {"pyruvate": fit["pyruvate_fit"], "lactate": fit["lactate_fit"]}
        maps = {n: v for n, v in fit.items() if n != "status" and not n.endswith("_fit")}
        notes.append(f"input-function model ({settings.model}); pyruvate and lactate fitted together")
    maps["AUC_ratio"] = np.where(analysed, model_free.auc_ratio(real["pyruvate"], real["lactate"]), np.nan)
    maps["SNR"] = np.where(analysed, snr, np.nan)
    maps["lactate_TTP"] = np.where(analysed, model_free.time_to_peak(real["lactate"], times), np.nan)
    maps["pyruvate_TTP"] = np.where(analysed, model_free.time_to_peak(real["pyruvate"], times), np.nan)
    maps["lactate_mean_time"] = np.where(analysed, model_free.mean_time(real["lactate"], times), np.nan)
    return HyperpolarizedAnalysis(
        maps=maps, status=fit["status"], mask=analysed, times_s=times,
        curves={m: np.moveaxis(v, -1, 0) for m, v in real.items()},
        fitted={m: np.moveaxis(v, -1, 0) for m, v in fitted.items()}, settings=settings, noise_sigma=sigma,
        noise_source=source, notes=notes, provenance=provenance)
