"""Chemical-shift referencing: move known peaks to their nominal ppm.

The magnitude spectrum (zero-filled) is cross-correlated with a set of singlets over shifts of
+/- ``search_ppm``: the shift maximising the summed magnitude at the shifted singlet positions is
refined with a parabola through the top three scores, and the FID multiplied by
exp(2 pi i df t) with df = shift (ppm) x MHz so the peaks land on their nominal ppm. With
``peak="auto"`` the singlets are NAA 2.01, Cr 3.03 and Cho 3.20 ppm together (the pattern is
found even where one is missing, e.g. NAA in a tumour, and a tall Cho cannot be mistaken for
Cr; LCModel references its spectra in the same way); where that pattern does not stand out of the
noise, water (4.65 ppm) is used. A name ("NAA", "Cr", "Cho", "water") or a ppm value uses that
single peak (the tallest magnitude within the window). Each FID (voxel, transient) gets its own
shift; FIDs where no peak is found are left unshifted.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .data_axes import checked_fid
from .spectral_axes import ppm_reference, spectrum, time_axis
from .step_record import checked_number, make_step, result, summary

REFERENCE_PEAKS = {"NAA": 2.01, "Cr": 3.03, "tCr": 3.03, "Cho": 3.20, "tCho": 3.20, "water": 4.65, "H2O": 4.65}
AUTO_PATTERN = ("NAA", "Cr", "Cho")


def pattern_shift(mrs, fid, peaks_ppm, search_ppm=0.3, zero_fill=8):
    """(shift ppm, height over noise) per FID: the displacement of the singlet pattern
    ``peaks_ppm`` that best matches the magnitude spectrum; NaN where the best match is at the
    edge of the search range."""
    n = fid.shape[-1]
    n_big = n * int(zero_fill)
    mhz = float(mrs.spectrometer_mhz)
    bin_hz = 1.0 / (n_big * float(mrs.dwell_s))
    bin_ppm = bin_hz / mhz
    k_max = int(np.ceil(search_ppm / bin_ppm))
    if k_max < 2:
        raise InputError(f"chemical-shift referencing: search window {search_ppm:g} ppm is below the spectral "
                         "resolution")
    centres = np.round(n_big // 2 + (ppm_reference(mrs) - np.asarray(peaks_ppm, float)) * mhz / bin_hz).astype(int)
    shifts = np.arange(-k_max, k_max + 1)
    index = centres[None, :] + shifts[:, None]                                   # (K, P)
    valid = (index >= 0) & (index < n_big)
    if not valid.all(axis=0).any():
        raise InputError(f"chemical-shift referencing: {', '.join(f'{p:g}' for p in peaks_ppm)} ppm lie outside "
                         "the spectrum")
    magnitude = np.abs(spectrum(fid, n_big))
    values = magnitude[..., np.clip(index, 0, n_big - 1)] * valid                  # (..., K, P)
    score = values.sum(axis=-1)
    best = np.argmax(score, axis=-1)
    interior = (best > 0) & (best < shifts.size - 1)
    inner = np.clip(best, 1, shifts.size - 2)
    y0 = np.take_along_axis(score, (inner - 1)[..., None], -1)[..., 0]
    y1 = np.take_along_axis(score, inner[..., None], -1)[..., 0]
    y2 = np.take_along_axis(score, (inner + 1)[..., None], -1)[..., 0]
    curvature = y0 - 2 * y1 + y2
    offset = np.where(curvature < 0, 0.5 * (y0 - y2) / np.where(curvature < 0, curvature, -1.0), 0.0)
    k = shifts[inner] + np.clip(offset, -1, 1)
    # Spectral index up = frequency up = ppm down.
    displacement = np.where(interior, -k * bin_ppm, np.nan)
    at_best = np.take_along_axis(values, inner[..., None, None], axis=-2)[..., 0, :]          # (..., P)
    tallest = at_best.max(axis=-1)
    # The tallest matched point must be a peak (higher than +/- 3 Hz around), not a tail.
    which = np.argmax(at_best, axis=-1)
    centre = np.clip(centres[which] + shifts[inner], 0, n_big - 1)
    w = max(int(round(3.0 / bin_hz)), 1)
    sides = np.stack([np.take_along_axis(magnitude, np.clip(centre + s, 0, n_big - 1)[..., None], -1)[..., 0]
                      for s in (-w, w)], axis=-1)
    interior = interior & (tallest > sides.max(axis=-1))
    displacement = np.where(interior, displacement, np.nan)
    tail = fid[..., -max(n // 4, 2):]
    noise = np.std(tail, axis=-1) * np.sqrt(n)
    height = np.where(noise > 0, tallest / np.where(noise > 0, noise, 1.0), np.inf)
    return displacement, height


def reference(mrs, peak="auto", search_ppm=0.3, target_ppm=None, min_snr=3.0, zero_fill=8):
    """Shift each FID so that ``peak`` ("auto", "NAA", "Cr", "Cho", "water" or a ppm value) lands at
    its nominal ppm (``target_ppm`` overrides the nominal ppm of a single peak). search_ppm:
    largest displacement searched. min_snr: a pattern weaker than this (peak / spectral noise SD)
    counts as not found ("auto" then falls back to water)."""
    what = "chemical-shift referencing"
    fid = checked_fid(mrs, what)
    search_ppm = checked_number(search_ppm, "search_ppm", what, 0.0, inclusive=False)
    if isinstance(peak, str):
        if peak == "auto":
            if target_ppm is not None:
                raise InputError(f"{what}: target_ppm needs a single peak, not 'auto'")
            candidates = [("/".join(AUTO_PATTERN), [REFERENCE_PEAKS[p] for p in AUTO_PATTERN]),
                          ("water", [REFERENCE_PEAKS["water"]])]
        elif peak in REFERENCE_PEAKS:
            candidates = [(peak, [REFERENCE_PEAKS[peak]])]
        else:
            raise InputError(f"{what}: peak '{peak}' unknown; choose 'auto', one of {', '.join(REFERENCE_PEAKS)} "
                             "or a ppm value")
    else:
        try:
            candidates = [(f"{float(peak):g} ppm", [float(peak)])]
        except (TypeError, ValueError):
            raise InputError(f"{what}: peak must be a name or a ppm value (got {peak!r})") from None
    shape = fid.shape[:-1]
    shift_ppm = np.full(shape, np.nan)
    used = np.full(shape, -1)
    nominal_of = {}
    for k, (name, peaks) in enumerate(candidates):
        todo = np.isnan(shift_ppm)
        if not todo.any():
            break
        displacement, height = pattern_shift(mrs, fid, peaks, search_ppm, zero_fill)
        correction = 0.0
        if target_ppm is not None:
            correction = peaks[0] - float(target_ppm)               # land on target instead of nominal
        nominal_of[k] = peaks if target_ppm is None else [float(target_ppm)]
        ok = todo & np.isfinite(displacement) & ((height >= min_snr) | (len(candidates) == 1))
        shift_ppm = np.where(ok, displacement + correction, shift_ppm)
        used = np.where(ok, k, used)
    missing = np.isnan(shift_ppm)
    if missing.all():
        raise InputError(f"{what}: no {' or '.join(n for n, _ in candidates)} peak found within {search_ppm:g} ppm "
                         "of its nominal position")
    shift_hz = np.where(missing, 0.0, shift_ppm * float(mrs.spectrometer_mhz))
    t = time_axis(fid.shape[-1], mrs.dwell_s)
    out = fid * np.exp(2j * np.pi * shift_hz[..., None] * t)
    kinds = [int(k) for k in np.unique(used[used >= 0])]
    names = [candidates[k][0] for k in kinds]
    details = "; ".join(f"{candidates[k][0]} moved to {'/'.join(f'{p:g}' for p in nominal_of[k])} ppm "
                        f"({int((used == k).sum())} FIDs)" for k in kinds)
    details += f"; shift {summary(shift_hz[~missing], 'Hz')}"
    if missing.any():
        details += f"; {int(missing.sum())} FIDs without a reference peak left unshifted"
    parameters = {"peak": names}
    if shift_hz.size <= 4096:
        parameters["shift_hz"] = np.round(shift_hz, 4)
    step = make_step("Frequency and phase correction", "chemical-shift referencing: " + details, **parameters)
    return result(mrs, out, step)


