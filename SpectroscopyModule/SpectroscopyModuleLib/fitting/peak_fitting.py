"""AMARES-style prior-knowledge peak fitting with lmfit (quick ratios, non-proton nuclei).

Each peak is a damped complex exponential a exp(i phi) exp(i 2 pi f t) D(t) with a
Lorentzian (exp(-pi lw t)), Gaussian (exp(-(pi lw t)^2 / (4 ln 2))) or Voigt (both) decay,
as in AMARES (Vanhamme L, van den Boogaart A, Van Huffel S. J Magn Reson 1997;129:35-43,
doi:10.1006/jmre.1997.1244). Prior knowledge: ppm position +- tolerance, linewidths linked
within ``linewidth_group``, amplitudes fixed relative to another peak (``amplitude_ratio``,
e.g. multiplet components), one shared zero-order phase. The model FID is Fourier transformed
and fitted to the data spectrum over a ppm window (peaks outside it do not need a model),
with an optional complex constant + linear baseline.

``amplitudes`` are FID amplitudes at t = 0 (= spectral areas, proportional to the number of
nuclei); standard errors come from lmfit's covariance (scaled by the residual), a
CRLB-like estimate.
"""
from dataclasses import dataclass

import numpy as np

from TMEMonitorLib.dependencies import require
from TMEMonitorLib.errors import InputError


@dataclass
class Peak:
    name: str
    ppm: float
    ppm_tolerance: float = 0.05
    linewidth_hz: float = 5.0
    lineshape: str = "lorentzian"          # 'lorentzian', 'gaussian' or 'voigt'
    linewidth_group: str = None            # peaks in one group share their linewidth
    amplitude_ratio: tuple = None          # (other peak name, ratio): amplitude = ratio x other's
    max_linewidth_hz: float = 100.0


@dataclass
class PeakFitResult:
    names: list
    amplitudes: dict
    amplitude_stderr: dict
    crlb_percent: dict
    ppm: dict
    linewidth_hz: dict
    phase0_deg: float
    ppm_axis: np.ndarray
    spectrum: np.ndarray
    fit_spectrum: np.ndarray
    baseline: np.ndarray
    residual: np.ndarray
    success: bool
    message: str

    @property
    def areas(self):
        return self.amplitudes

    def ratio(self, numerator, denominator):
        from .. import quantification
        return quantification.ratio(self.amplitudes, numerator, denominator)


def _safe(name):
    return "p_" + "".join(c if c.isalnum() else "_" for c in name)


def fit_peaks(mrs, peaks, ppm_range=None, baseline=True, ppm_reference=None, max_nfev=2000):
    """Fit ``peaks`` (list of :class:`Peak`) to an MRSData-like single spectrum.

    ppm_range defaults to the span of the peaks +- 0.3 ppm. ppm_reference defaults to the
    object's ``ppm_reference`` or 4.65 (1H); give the nucleus' reference for 31P/13C data."""
    lmfit = require("lmfit")
    fid = np.squeeze(np.asarray(mrs.fid))
    if fid.ndim != 1:
        raise InputError(f"fit_peaks needs a single spectrum, got fid shape {np.shape(mrs.fid)}")
    if not peaks:
        raise InputError("no peaks given")
    names = [p.name for p in peaks]
    if len(set(names)) != len(names):
        raise InputError(f"peak names must be unique: {names}")
    by_name = {p.name: p for p in peaks}
    for p in peaks:
        if p.lineshape not in ("lorentzian", "gaussian", "voigt"):
            raise InputError(f"peak '{p.name}': lineshape must be lorentzian, gaussian or voigt")
        if p.amplitude_ratio is not None and p.amplitude_ratio[0] not in by_name:
            raise InputError(f"peak '{p.name}' is tied to unknown peak '{p.amplitude_ratio[0]}'")
    n = fid.size
    dwell, mhz = float(mrs.dwell_s), float(mrs.spectrometer_mhz)
    ref = getattr(mrs, "ppm_reference", 4.65) if ppm_reference is None else ppm_reference
    t = np.arange(n) * dwell
    ppm_axis = ref - np.fft.fftshift(np.fft.fftfreq(n, dwell)) / mhz
    if ppm_range is None:
        centres = [p.ppm for p in peaks]
        ppm_range = (min(centres) - 0.3, max(centres) + 0.3)
    sel = (ppm_axis >= min(ppm_range)) & (ppm_axis <= max(ppm_range))
    if sel.sum() < 8:
        raise InputError(f"ppm_range {ppm_range} holds too few points")
    spec = np.fft.fftshift(np.fft.fft(fid))
    y = spec[sel]
    x_ppm = ppm_axis[sel]
    scale = np.abs(y).max() or 1.0
    y = y / scale

    params = lmfit.Parameters()
    params.add("phase0", value=float(np.angle(y[np.argmax(np.abs(y))])), min=-2 * np.pi, max=2 * np.pi)
    leaders = {}
    for p in peaks:
        key = _safe(p.name)
        if p.amplitude_ratio is None:
            params.add(f"{key}_amp", value=1.0, min=0.0)   # replaced by a linear solve below
        params.add(f"{key}_ppm", value=p.ppm, min=p.ppm - p.ppm_tolerance, max=p.ppm + p.ppm_tolerance)
        group = p.linewidth_group
        if group is not None and group in leaders:
            params.add(f"{key}_lw", expr=f"{leaders[group]}_lw")
        else:
            params.add(f"{key}_lw", value=p.linewidth_hz, min=0.1, max=p.max_linewidth_hz)
            if group is not None:
                leaders[group] = key
    for p in peaks:
        if p.amplitude_ratio is not None:
            other, r = p.amplitude_ratio
            params.add(f"{_safe(p.name)}_amp", expr=f"{float(r)} * {_safe(other)}_amp")
    if baseline:
        for term in ("b0r", "b0i", "b1r", "b1i"):
            params.add(term, value=0.0)

    def model_fid(pv):
        total = np.zeros(n, dtype=complex)
        for p in peaks:
            key = _safe(p.name)
            f = (ref - pv[f"{key}_ppm"]) * mhz
            lw = pv[f"{key}_lw"]
            if p.lineshape == "lorentzian":
                decay = np.exp(-np.pi * lw * t)
            elif p.lineshape == "gaussian":
                decay = np.exp(-(np.pi * lw * t) ** 2 / (4 * np.log(2)))
            else:   # Voigt with equal Lorentzian and Gaussian widths
                decay = np.exp(-np.pi * lw * t / 2 - (np.pi * lw * t / 2) ** 2 / (4 * np.log(2)))
            total += pv[f"{key}_amp"] * decay * np.exp(2j * np.pi * f * t)
        return total

    centre = x_ppm - x_ppm.mean()

    def model_spectrum(pv):
        fit = np.fft.fftshift(np.fft.fft(model_fid(pv) * np.exp(1j * pv["phase0"])))[sel]
        base = np.zeros_like(fit)
        if baseline:
            base = (pv["b0r"] + 1j * pv["b0i"]) + (pv["b1r"] + 1j * pv["b1i"]) * centre
        return fit, base

    def residual(pars):
        pv = pars.valuesdict()
        fit, base = model_spectrum(pv)
        r = y - fit - base
        return np.concatenate([r.real, r.imag])

    # better amplitude start: one linear solve with the starting shapes
    pv0 = params.valuesdict()
    columns = []
    free_peaks = [p for p in peaks if p.amplitude_ratio is None]
    for p in free_peaks:
        single = dict(pv0)
        for q in peaks:
            single[f"{_safe(q.name)}_amp"] = 0.0
        single[f"{_safe(p.name)}_amp"] = 1.0
        for q in peaks:
            if q.amplitude_ratio is not None and q.amplitude_ratio[0] == p.name:
                single[f"{_safe(q.name)}_amp"] = float(q.amplitude_ratio[1])
        columns.append(model_spectrum(single)[0])
    a = np.stack(columns, axis=1)
    coef = np.linalg.lstsq(np.concatenate([a.real, a.imag]), np.concatenate([y.real, y.imag]), rcond=None)[0]
    for p, c in zip(free_peaks, coef):
        params[f"{_safe(p.name)}_amp"].set(value=max(float(c), 1e-6))

    out = lmfit.minimize(residual, params, method="least_squares", max_nfev=max_nfev)
    pv = out.params.valuesdict()
    fit, base = model_spectrum(pv)
    amplitudes, stderr, crlb, ppm, lw = {}, {}, {}, {}, {}
    for p in peaks:
        key = _safe(p.name)
        amp = out.params[f"{key}_amp"]
        amplitudes[p.name] = float(amp.value * scale)
        err = amp.stderr
        stderr[p.name] = float(err * scale) if err is not None else float("nan")
        crlb[p.name] = 100.0 * stderr[p.name] / amplitudes[p.name] if amplitudes[p.name] > 0 else float("inf")
        ppm[p.name] = float(pv[f"{key}_ppm"])
        lw[p.name] = float(pv[f"{key}_lw"])
    phase = np.exp(-1j * pv["phase0"])
    return PeakFitResult(names, amplitudes, stderr, crlb, ppm, lw, float(np.rad2deg(pv["phase0"])),
                         x_ppm, y * scale * phase, fit * scale * phase, base * scale * phase,
                         (y - fit - base) * scale * phase, bool(out.success), str(out.message))
