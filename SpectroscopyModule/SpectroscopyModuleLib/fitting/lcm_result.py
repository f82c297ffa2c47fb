"""Result objects of LCM fits: one voxel (spectra, amplitudes, CRLB) and a grid (maps)."""
import numpy as np

from TMEMonitorLib.fitting import status as fit_status

from .. import quantification


class LCMResult:
    """Fit of one spectrum.

    Spectra (``spectrum``, ``fit_spectrum``, ``baseline``, ``residual``, ``components``) are
    complex arrays over ``ppm`` (the fit range, descending ppm) in the phase-corrected frame:
    their real parts are absorption-mode. Amplitudes are in basis units (concentration x a
    common scale for a simulated basis); ``crlb_percent`` is 100 * CRLB / amplitude.
    """

    def __init__(self, model, summary, index, crlb_threshold_percent=20.0, fwhm_threshold_ppm=0.1,
                 full_spectrum=None):
        i = index
        self.names = list(model.names)
        self.spectrometer_mhz = model.mhz
        self.ppm = model.ppm.copy()
        self.ppm_full = model.ppm_full.copy()
        self.ppm_range = model.ppm_range
        self.full_spectrum = full_spectrum
        amps = summary["amplitudes"][i]
        self.amplitudes = dict(zip(self.names, map(float, amps)))
        self.crlb_abs = dict(zip(self.names, map(float, summary["crlb_abs"][i])))
        self.crlb_percent = dict(zip(self.names, map(float, summary["crlb_percent"][i])))
        self.covariance = summary["covariance"][i]
        self.phase0_deg = float(summary["phase0_deg"][i])
        self.phase1_deg_per_ppm = float(summary["phase1_deg_per_ppm"][i])
        self.phase_pivot_ppm = float(model.pivot)
        self.shift_hz = float(summary["shift_hz"][i])
        self.group_shift_hz = dict(zip(model.groups, map(float, summary["group_shift_hz"][i])))
        self.metabolite_shift_hz = dict(zip(self.names, map(float, model._shifts(summary["theta"][i:i + 1])[0])))
        self.linewidth_hz = float(summary["linewidth_hz"][i])
        self.gaussian_linewidth_hz = float(summary["gaussian_linewidth_hz"][i])
        self.fwhm_hz = float(summary["fwhm_hz"][i])
        self.fwhm_ppm = float(summary["fwhm_ppm"][i])
        self.noise_sd = float(summary["noise_sd"][i])
        self.snr = float(summary["snr"][i])
        self.rmse = float(summary["rmse"][i])
        self.r2 = float(summary["r2"][i])
        self.status = int(summary["status"][i])
        self.status_name = fit_status.NAMES.get(self.status, str(self.status))
        if "spectrum" in summary:
            self.spectrum = summary["spectrum"][i]
            self.fit_spectrum = summary["fit_spectrum"][i]
            self.baseline = summary["baseline"][i]
            self.residual = summary["residual"][i]
            self.components = dict(zip(self.names, summary["components"][i]))
        self.quality = quantification.quality_flags(self, crlb_threshold_percent, fwhm_threshold_ppm)
        self.flags = self.quality["flags"]

    def ratio(self, numerator, denominator):
        """Ratio of summed amplitudes: ratio("NAA+NAAG", "Cr+PCr"); totals such as 'tCho' work too."""
        return quantification.ratio(self.amplitudes, numerator, denominator)

    def ratio_sd(self, numerator, denominator):
        """Standard deviation of ``ratio`` from the amplitude covariance (delta method)."""
        num_names = quantification.expand_terms(numerator, self.names)
        den_names = quantification.expand_terms(denominator, self.names)
        u = np.array([1.0 if n in num_names else 0.0 for n in self.names])
        v = np.array([1.0 if n in den_names else 0.0 for n in self.names])
        a = np.array([self.amplitudes[n] for n in self.names])
        num, den = u @ a, v @ a
        if den <= 0:
            return float("nan")
        grad = u / den - v * num / den ** 2
        return float(np.sqrt(max(grad @ self.covariance @ grad, 0.0)))

    def table(self):
        """Rows (name, amplitude, crlb_abs, crlb_percent) for a results table."""
        return [{"metabolite": n, "amplitude": self.amplitudes[n], "crlb": self.crlb_abs[n],
                 "crlb_percent": self.crlb_percent[n]} for n in self.names]

    def __repr__(self):
        top = sorted(self.amplitudes.items(), key=lambda kv: -kv[1])[:4]
        return (f"LCMResult({self.status_name}, SNR {self.snr:.1f}, FWHM {self.fwhm_ppm:.3f} ppm, "
                + ", ".join(f"{k} {v:.3g}" for k, v in top) + ")")


class LCMGridResult:
    """Fit of an MRSI grid: maps over the grid shape (NaN where not fitted) and ``status``."""

    def __init__(self, model, summary, grid_shape, flat_fids, crlb_threshold_percent=20.0,
                 fwhm_threshold_ppm=0.1):
        self._model = model
        self._summary = summary
        self._fids = flat_fids
        self._thresholds = (crlb_threshold_percent, fwhm_threshold_ppm)
        self.grid_shape = tuple(grid_shape)
        self.names = list(model.names)
        shape = self.grid_shape

        def grid(key):
            return summary[key].reshape(shape + summary[key].shape[1:])
        amps = grid("amplitudes")
        crlb = grid("crlb_percent")
        self.amplitudes = {n: amps[..., k] for k, n in enumerate(self.names)}
        self.crlb_percent = {n: crlb[..., k] for k, n in enumerate(self.names)}
        crlb_abs = grid("crlb_abs")
        self.crlb_abs = {n: crlb_abs[..., k] for k, n in enumerate(self.names)}
        for key in ("phase0_deg", "phase1_deg_per_ppm", "shift_hz", "linewidth_hz",
                    "gaussian_linewidth_hz", "fwhm_hz", "fwhm_ppm", "noise_sd", "snr", "rmse", "r2"):
            setattr(self, key, grid(key))
        self.status = summary["status"].reshape(shape)

    def ratio(self, numerator, denominator):
        """Map of a ratio of summed amplitudes (NaN where the denominator is 0 or not fitted)."""
        return quantification.ratio(self.amplitudes, numerator, denominator)

    def as_dict(self):
        """Flat dict of maps: one per metabolite, '<name>_crlb_percent', and the fit quality maps."""
        out = {}
        for n in self.names:
            out[n] = self.amplitudes[n]
            out[f"{n}_crlb_percent"] = self.crlb_percent[n]
        for key in ("snr", "fwhm_ppm", "shift_hz", "linewidth_hz", "phase0_deg", "rmse", "r2", "status"):
            out[key] = getattr(self, key)
        return out

    def quality_mask(self, crlb_threshold_percent=None, fwhm_threshold_ppm=None,
                     metabolites=("NAA", "Cr", "PCr", "GPC", "PCh", "Cho")):
        """True where the fit is usable: status OK or HIT_BOUND, FWHM under the threshold, and
        at least one of the listed reference metabolites with a CRLB under the threshold."""
        crlb_thr = self._thresholds[0] if crlb_threshold_percent is None else crlb_threshold_percent
        fwhm_thr = self._thresholds[1] if fwhm_threshold_ppm is None else fwhm_threshold_ppm
        good = np.isin(self.status, (fit_status.OK, fit_status.HIT_BOUND)) & (self.fwhm_ppm <= fwhm_thr)
        present = [m for m in metabolites if m in self.names]
        if present:
            best = np.min(np.stack([self.crlb_percent[m] for m in present]), axis=0)
            good &= best <= crlb_thr
        return good

    def voxel(self, index):
        """Full :class:`LCMResult` (spectra, components) of one fitted voxel, e.g. voxel((3, 5))."""
        from .lcm_summary import summarise
        flat = int(np.ravel_multi_index(tuple(np.atleast_1d(index)), self.grid_shape))
        status = int(self._summary["status"][flat])
        if status in (fit_status.MASKED, fit_status.NO_SIGNAL):
            raise IndexError(f"voxel {index} was not fitted ({fit_status.NAMES[status]})")
        model = self._model
        fids = self._fids[flat:flat + 1]
        spectra = model.data_spectrum(fids)
        scale = np.abs(spectra).max(axis=1)
        scale = np.where(scale > 0, scale, 1.0)
        theta = self._summary["theta"][flat:flat + 1]
        noise = self._summary["noise_sd"][flat:flat + 1]
        summary = summarise(model, theta, scale, spectra / scale[:, None], noise,
                            np.array([status != fit_status.FAILED]), keep_components=True)
        full = np.fft.fftshift(np.fft.fft(fids[0]))
        return LCMResult(model, summary, 0, *self._thresholds, full_spectrum=full)
