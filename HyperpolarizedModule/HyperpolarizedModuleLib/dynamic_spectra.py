"""Dynamic 13C MRSI / slab MRS -> metabolite amplitude series for the kinetic fit.

Each spectrum (one frame of one voxel) is fitted with the Spectroscopy module's prior-knowledge peak
fit (SpectroscopyModuleLib.fitting.peak_fitting.fit_peaks: AMARES-style Lorentzian lines, one shared
zero-order phase, a constant + linear baseline; no second peak fitter here). The amplitude of each
metabolite (FID amplitude at t = 0, proportional to its signal) over the frames is the series the
inputless model fits, (frames, slices, rows, cols) like a metabolite-specific image series.

Chemical shifts (ppm) of the [1-13C] resonances at body temperature: pyruvate 171.0, lactate 183.0,
alanine 176.5, pyruvate-hydrate 179.4, bicarbonate 161.0 (Kurhanewicz et al., Neoplasia 2011,
doi:10.1593/neo.101102; Golman et al., Cancer Res 2006, doi:10.1158/0008-5472.CAN-06-2564). The
spectrum's ppm axis is centre_ppm - f / spectrometer_MHz (f the offset from the receiver frequency,
in Hz), so the caller gives the ppm at the receiver (centre) frequency, e.g. 171 when centred on
pyruvate.

Prior knowledge: every line within +-``ppm_tolerance`` of its shift (B0 offsets), all lines of one
spectrum share one linewidth (in vivo the width is set by the voxel's B0 inhomogeneity) and one
phase; the fit window spans the lines +- 3 ppm. Pyruvate-hydrate is fitted when it lies in the
window (it overlaps nothing else but biases lactate if left out) and not returned as a series.

Per-frame quality (MRS quality codes of the registry): 1 good, 2 poor = the fit did not converge,
or the residual SD exceeds 2x the noise SD of the spectrum (estimated from the last quarter of the
FID, where the lines have decayed), or an amplitude is not finite.
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError

CHEMICAL_SHIFTS_PPM = {"pyruvate": 171.0, "lactate": 183.0, "alanine": 176.5, "bicarbonate": 161.0,
                       "pyruvate_hydrate": 179.4}
KINETIC_METABOLITES = ("pyruvate", "lactate", "bicarbonate", "alanine")
QUALITY_GOOD, QUALITY_POOR = 1, 2
DEFAULT_PPM_TOLERANCE = 0.5        # ppm: B0 offsets of a 13C voxel (0.5 ppm = 16 Hz at 3 T)
DEFAULT_LINEWIDTH_HZ = 10.0        # start; in vivo 13C lines are ~ 5-25 Hz at 3 T
WINDOW_MARGIN_PPM = 3.0
RESIDUAL_LIMIT = 2.0               # residual SD / noise SD above which a frame's fit is poor
MIN_POINTS = 16


@dataclass
class DynamicAmplitudes:
    amplitudes: dict                       # metabolite -> (frames, slices, rows, cols) float
    quality: np.ndarray                    # uint8 (frames, slices, rows, cols): 1 good, 2 poor
    amplitude_sd: float                    # median standard error of the amplitudes (signal units)
    linewidth_hz: np.ndarray               # (frames, slices, rows, cols) shared linewidth fitted
    notes: list = field(default_factory=list)

    @property
    def poor_frames(self):
        """Poor frames per voxel (slices, rows, cols)."""
        return np.sum(self.quality == QUALITY_POOR, axis=0)


class _Spectrum:
    """The MRSData-like object fit_peaks reads (one FID)."""

    def __init__(self, fid, dwell_s, spectrometer_mhz, ppm_reference):
        self.fid, self.dwell_s, self.spectrometer_mhz, self.ppm_reference = fid, dwell_s, spectrometer_mhz, \
            ppm_reference


def spectral_window_ppm(n_points, dwell_s, spectrometer_mhz, centre_ppm):
    """(low, high) ppm covered by the spectrum."""
    half = 0.5 / dwell_s / spectrometer_mhz      # axis: centre - f / MHz, f from -SW/2 to SW/2 - SW/n
    return centre_ppm - half * (1.0 - 2.0 / n_points), centre_ppm + half


def _checked(fid, dwell_s, spectrometer_mhz, centre_ppm, metabolites, shifts, tolerance):
    fid = np.asarray(fid)
    if fid.ndim < 2 or fid.ndim > 5:
        raise InputError(f"spectra: no spectral axis - expected (frames, [x, y, z,] points) with the time-domain "
                         f"spectral axis last; got shape {fid.shape}")
    if fid.shape[-1] < MIN_POINTS:
        raise InputError(f"spectra: the last axis has {fid.shape[-1]} points; it must be the spectral axis "
                         f"(>= {MIN_POINTS} time-domain points) - is there a spectral axis?")
    if fid.shape[0] < 3:
        raise InputError(f"spectra: {fid.shape[0]} frames (first axis); dynamic data need at least 3")
    if not np.iscomplexobj(fid):
        raise InputError("spectra: time-domain FIDs must be complex (got real values)")
    for value, name, unit in ((dwell_s, "dwell time", "s"), (spectrometer_mhz, "13C spectrometer frequency", "MHz")):
        if value is None or not (np.isfinite(value) and value > 0):
            raise InputError(f"spectra: {name} ({unit}) missing or not positive: {value}")
    if not 1e-6 <= dwell_s <= 1e-2:
        raise InputError(f"spectra: dwell time {dwell_s:g} s is implausible (1 us - 10 ms; ms given as s?)")
    if centre_ppm is None or not np.isfinite(centre_ppm):
        raise InputError("spectra: the ppm at the centre (receiver) frequency is missing (--centre-ppm, e.g. 171 "
                         "when centred on pyruvate)")
    if "pyruvate" not in metabolites or "lactate" not in metabolites:
        raise InputError(f"spectra: pyruvate and lactate must be among the metabolites fitted; got {metabolites}")
    low, high = spectral_window_ppm(fid.shape[-1], dwell_s, spectrometer_mhz, centre_ppm)
    for name in metabolites:
        if name not in shifts:
            raise InputError(f"spectra: no chemical shift for '{name}'; known: {', '.join(sorted(shifts))}")
        ppm = shifts[name]
        if not (low + tolerance <= ppm <= high - tolerance):
            raise InputError(f"spectra: {name} at {ppm:g} ppm lies outside the spectral width "
                             f"{low:.2f}-{high:.2f} ppm (centre {centre_ppm:g} ppm, {1 / dwell_s:.0f} Hz at "
                             f"{spectrometer_mhz:g} MHz) with its +-{tolerance:g} ppm tolerance")
    return fid


def fit_dynamic_spectra(fid, dwell_s, spectrometer_mhz, centre_ppm, metabolites=("pyruvate", "lactate"),
                        shifts_ppm=None, ppm_tolerance=DEFAULT_PPM_TOLERANCE, linewidth_hz=DEFAULT_LINEWIDTH_HZ,
                        progress=None):
    """Amplitude series per metabolite from dynamic spectra.

    ``fid`` complex (frames, points), (frames, x, points), (frames, x, y, points) or (frames, x, y, z, points):
    time-domain FIDs, frame first, spectral axis last (x, y, z voxel indices i, j, k). ``dwell_s`` s between
    FID points (1 / spectral width); ``spectrometer_mhz`` the 13C frequency; ``centre_ppm`` the ppm at the
    receiver frequency. Returns :class:`DynamicAmplitudes` with arrays (frames, slices, rows, cols), i.e.
    (t, k, j, i). InputError (naming the input) for a missing spectral axis, a metabolite outside the
    spectral width, too few frames."""
    from SpectroscopyModuleLib.fitting.peak_fitting import Peak, fit_peaks

    shifts = dict(CHEMICAL_SHIFTS_PPM, **(shifts_ppm or {}))
    metabolites = tuple(metabolites)
    fid = _checked(fid, dwell_s, spectrometer_mhz, centre_ppm, metabolites, shifts, ppm_tolerance)
    n_frames, n_points = fid.shape[0], fid.shape[-1]
    spatial = fid.shape[1:-1] + (1,) * (5 - fid.ndim)          # (i, j, k)
    voxels = fid.reshape((n_frames,) + spatial + (n_points,))
    low, high = spectral_window_ppm(n_points, dwell_s, spectrometer_mhz, centre_ppm)
    fitted = list(metabolites)
    hydrate = shifts["pyruvate_hydrate"]
    if "pyruvate_hydrate" not in fitted and low + ppm_tolerance <= hydrate <= high - ppm_tolerance:
        fitted.append("pyruvate_hydrate")
    peaks = [Peak(name, shifts[name], ppm_tolerance=ppm_tolerance, linewidth_hz=linewidth_hz, linewidth_group="all")
             for name in fitted]
    window = (max(min(shifts[m] for m in fitted) - WINDOW_MARGIN_PPM, low),
              min(max(shifts[m] for m in fitted) + WINDOW_MARGIN_PPM, high))
    grid = spatial[::-1]                                         # (k, j, i)
    amplitudes = {m: np.full((n_frames,) + grid, np.nan) for m in metabolites}
    quality = np.full((n_frames,) + grid, QUALITY_POOR, np.uint8)
    widths = np.full((n_frames,) + grid, np.nan)
    errors = []
    tail = slice(n_points - max(n_points // 4, 8), n_points)
    total = n_frames * int(np.prod(spatial))
    done = 0
    for index in np.ndindex(*spatial):
        for frame in range(n_frames):
            signal = voxels[(frame,) + index]
            out = (frame,) + index[::-1]
            done += 1
            if not np.all(np.isfinite(signal)):
                continue                                        # NaN amplitudes, quality poor
            if not np.any(signal):
                for m in metabolites:                           # an empty frame (zero-filled): no signal
                    amplitudes[m][out] = 0.0
                quality[out] = QUALITY_GOOD
                continue
            result = fit_peaks(_Spectrum(signal, dwell_s, spectrometer_mhz, centre_ppm), peaks, ppm_range=window)
            values = [result.amplitudes[m] for m in metabolites]
            for m, v in zip(metabolites, values):
                amplitudes[m][out] = v
            widths[out] = result.linewidth_hz[fitted[0]]
            # noise SD of one spectral point: FID noise SD (per channel) x sqrt(n) under the unnormalised FFT
            noise_sd = np.sqrt(0.5 * (np.var(signal[tail].real) + np.var(signal[tail].imag)) * n_points)
            residual_sd = np.sqrt(0.5 * np.mean(np.abs(result.residual) ** 2))
            # (a floor far below any real noise, for noise-free data)
            noise_sd = max(noise_sd, 1e-6 * float(np.max(np.abs(result.spectrum))))
            good = result.success and np.all(np.isfinite(values)) and residual_sd <= RESIDUAL_LIMIT * noise_sd
            quality[out] = QUALITY_GOOD if good else QUALITY_POOR
            errors += [result.amplitude_stderr[m] for m in metabolites if np.isfinite(result.amplitude_stderr[m])]
            if progress is not None and done % 16 == 0:
                progress(done / total, "fitting spectra")
    sd = float(np.median(errors)) if errors else float("nan")
    poor = int(np.sum(quality == QUALITY_POOR))
    notes = [f"amplitudes from the Spectroscopy module's peak fit (Lorentzian lines at {', '.join(f'{m} {shifts[m]:g}' for m in fitted)} "
             f"ppm +-{ppm_tolerance:g}, shared linewidth and phase, window {window[0]:.1f}-{window[1]:.1f} ppm; centre "
             f"{centre_ppm:g} ppm)",
             f"spectral fits: {poor} of {quality.size} frame-voxels poor (not converged or residual > "
             f"{RESIDUAL_LIMIT:g}x noise)"]
    return DynamicAmplitudes(amplitudes=amplitudes, quality=quality, amplitude_sd=sd, linewidth_hz=widths, notes=notes)


def synthesize_fids(amplitudes, dwell_s, spectrometer_mhz, centre_ppm, n_points=512, linewidth_hz=12.0,
                    noise_sd=0.0, shifts_ppm=None, phase_rad=0.0, ppm_offset=0.0, rng=None):
    """Dynamic FIDs (frames, [voxels...,] points) with Lorentzian lines of the given amplitudes
    {metabolite: (frames, ...)} (FID amplitude at t = 0) and complex Gaussian noise of SD ``noise_sd``
    per channel: the test data of this module (truth known)."""
    shifts = dict(CHEMICAL_SHIFTS_PPM, **(shifts_ppm or {}))
    t = np.arange(n_points) * dwell_s
    first = np.asarray(next(iter(amplitudes.values())), dtype=float)
    fid = np.zeros(first.shape + (n_points,), complex)
    for name, amplitude in amplitudes.items():
        offset_hz = (centre_ppm - (shifts[name] + ppm_offset)) * spectrometer_mhz
        line = np.exp(2j * np.pi * offset_hz * t - np.pi * linewidth_hz * t)
        fid += np.asarray(amplitude, dtype=float)[..., None] * line
    fid *= np.exp(1j * phase_rad)
    if noise_sd:
        rng = np.random.default_rng(rng)
        fid += noise_sd * (rng.standard_normal(fid.shape) + 1j * rng.standard_normal(fid.shape))
    return fid
