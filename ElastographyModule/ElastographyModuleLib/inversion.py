"""Shear-modulus inversions of complex first-harmonic MRE wave fields (public API).

``wave``: complex displacement (m) of the first harmonic, shaped (components, slices, rows,
cols), components along the array axes (slice, row, col) or any fixed set of directions;
``waves``: {frequency_hz: wave}. Every inversion returns a dict of maps:

  abs_G (Pa), phi (rad), G_storage (Pa), G_loss (Pa), wave_speed (m/s), amplitude (m),
  confidence (wave SNR: 1 = noise level), status (TMEMonitorLib.fitting.status codes)

Voxels where the wave is too weak (confidence below ``min_wave_snr``) are NO_SIGNAL and NaN,
outside ``mask`` MASKED and NaN, never a number that looks like stiffness. Loss angles outside
[0, pi/2] (non-passive) are clipped and flagged HIT_BOUND.

* :func:`helmholtz`: algebraic direct inversion per frequency, G* = -rho omega^2 U / Lap(U),
  least squares over components (Oliphant et al., Magn Reson Med 2001,
  doi:10.1002/1522-2594(200102)45:2<299::AID-MRM1039>3.0.CO;2-O).
* :func:`mdev`: multifrequency dual elasto-visco inversion, magnitude and phase pooled over
  components and frequencies (Papazoglou et al., Phys Med Biol 2012,
  doi:10.1088/0031-9155/57/8/2329, eqs. for |G*| and phi; Streitberger et al., PLoS One 2014,
  doi:10.1371/journal.pone.0110588).
* :func:`kmdev`: wavenumber-based multifrequency inversion (see :mod:`.kmdev`).
"""
import numpy as np

from TMEMonitorLib.fitting import status as fit_status

from . import derivatives, moduli, noise
from .compression import remove_compression
from .kmdev import kmdev  # noqa: F401  (public API)

DEFAULT_SMOOTHING_SIGMA_VOX = 1.5      # Gaussian low-pass before the Laplacian (voxels), at most
DEFAULT_SMOOTHING_PER_WAVELENGTH = 0.1  # ... this fraction of the dominant wavelength (0: fixed width)
DEFAULT_MIN_WAVE_SNR = 3.0
DEFAULT_HIGHPASS_SIGMA_VOX = 5.0


def _check_wave(wave, where):
    wave = np.asarray(wave)
    if wave.ndim == 3:
        wave = wave[np.newaxis]
    if wave.ndim != 4:
        raise ValueError(f"{where}: expected a complex wave shaped (components, slices, rows, cols); "
                         f"got shape {wave.shape}")
    if not np.iscomplexobj(wave):
        raise ValueError(f"{where}: the wave must be the complex first harmonic (real input has no phase)")
    return wave.astype(np.complex128, copy=False)


def _check_mask(mask, shape):
    if mask is None:
        return np.ones(shape, bool)
    mask = np.asarray(mask, bool)
    if mask.shape != tuple(shape):
        raise ValueError(f"mask of shape {mask.shape} does not match the wave grid {tuple(shape)}")
    return mask


class _Prepared:
    """A wave ready for differentiation: compression removed, low-passed, with its Laplacian."""

    def __init__(self, wave, voxel_size_m, options):
        axes = derivatives.active_axes(wave.shape[1:], options["axes"])
        self.raw_amplitude = noise.wave_amplitude(wave)
        sigma = options["noise_sigma"]
        self.noise_sigma = noise.spatial_noise_sigma(wave) if sigma is None else float(sigma)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.confidence = noise.wave_snr(wave, self.noise_sigma)
        field, self.compression = remove_compression(wave, voxel_size_m, options["compression"],
                                                     options["highpass_sigma_vox"], axes)
        # The wavelength is read from the field the Laplacian sees, except after a curl: read it from
        # the measured wave there, as a derivative colours the noise (its power peaks mid-band), which
        # no noise floor then removes; a compressional wave left in only lengthens the estimate, i.e.
        # loosens the cap back towards the fixed width.
        self.sigma_vox, self.wavelength_m = derivatives.wavelength_scaled_sigma(
            wave if self.compression == "curl" else field, voxel_size_m, options["smoothing_sigma_vox"], options["smoothing_per_wavelength"], axes)
        self.field = derivatives.smooth(field, self.sigma_vox, axes)
        self.laplacian = derivatives.laplacian(self.field, voxel_size_m, axes, options["laplacian"])


def _options(smoothing_sigma_vox, compression, laplacian, axes, noise_sigma, min_wave_snr, highpass_sigma_vox,
             smoothing_per_wavelength=None):
    if laplacian not in derivatives.LAPLACIAN_METHODS:
        raise ValueError(f"laplacian '{laplacian}' is not one of {', '.join(derivatives.LAPLACIAN_METHODS)}")
    if axes not in ("3d", "2d"):
        raise ValueError(f"axes '{axes}': expected '3d' or '2d' (in-plane)")
    return {"smoothing_sigma_vox": smoothing_sigma_vox, "compression": compression, "laplacian": laplacian,
            "axes": axes, "noise_sigma": noise_sigma, "min_wave_snr": float(min_wave_snr),
            "highpass_sigma_vox": highpass_sigma_vox,
            "smoothing_per_wavelength": DEFAULT_SMOOTHING_PER_WAVELENGTH if smoothing_per_wavelength is None
            else float(smoothing_per_wavelength)}


def _finish(abs_g, phi, confidence, amplitude, mask, min_wave_snr, density, extra=None):
    """Status, clipping and NaN-ing shared by the inversions."""
    status = np.full(mask.shape, fit_status.OK, dtype=fit_status.DTYPE)
    phi = np.array(phi, dtype=float)
    out_of_range = np.isfinite(phi) & ((phi < 0) | (phi > np.pi / 2))
    status[out_of_range] = fit_status.HIT_BOUND
    phi = np.clip(phi, 0.0, np.pi / 2)
    failed = ~np.isfinite(abs_g) | ~np.isfinite(phi) | ~(abs_g > 0)
    status[failed] = fit_status.FAILED
    status[~(confidence >= min_wave_snr)] = fit_status.NO_SIGNAL
    status[~mask] = fit_status.MASKED
    invalid = (status == fit_status.FAILED) | (status == fit_status.NO_SIGNAL) | (status == fit_status.MASKED)
    abs_g = np.where(invalid, np.nan, abs_g)
    phi = np.where(invalid, np.nan, phi)
    storage, loss = moduli.complex_modulus(abs_g, phi)
    maps = {"abs_G": abs_g, "phi": phi, "G_storage": storage, "G_loss": loss,
            "wave_speed": moduli.phase_velocity(abs_g, phi, density),
            "amplitude": np.where(mask, amplitude, np.nan), "confidence": np.where(mask, confidence, np.nan),
            "status": status}
    maps.update(extra or {})
    return maps


def helmholtz(wave, voxel_size_m, frequency_hz, density_kg_m3=1000.0, mask=None, smoothing_sigma_vox=None,
              compression="none", laplacian="fd4", axes="3d", noise_sigma=None, min_wave_snr=None,
              highpass_sigma_vox=None, smoothing_per_wavelength=None):
    """Direct (algebraic Helmholtz) inversion at one frequency; see the module docstring.

    ``smoothing_sigma_vox``: Gaussian low-pass before differentiation (default 1.5 voxels; 0 for
    none), no wider than ``smoothing_per_wavelength`` (default 0.1; 0: no cap) of the wave's dominant
    wavelength (:func:`derivatives.wavelength_scaled_sigma`); ``compression``: 'none', 'curl', 'bandpass' or 'auto'; ``laplacian``: 'fd4', 'fd2',
    'savgol' or 'fft'; ``axes``: '3d' or '2d' (in-plane); ``noise_sigma``: noise SD of the real
    part of ``wave`` (m), estimated from the field when None.
    """
    wave = _check_wave(wave, "helmholtz")
    frequency_hz = float(frequency_hz)
    if not frequency_hz > 0:
        raise ValueError(f"frequency_hz {frequency_hz}: must be positive (Hz)")
    derivatives.voxel_sizes(voxel_size_m)
    mask = _check_mask(mask, wave.shape[1:])
    options = _options(DEFAULT_SMOOTHING_SIGMA_VOX if smoothing_sigma_vox is None else smoothing_sigma_vox,
                       compression, laplacian, axes, noise_sigma,
                       DEFAULT_MIN_WAVE_SNR if min_wave_snr is None else min_wave_snr,
                       highpass_sigma_vox or DEFAULT_HIGHPASS_SIGMA_VOX, smoothing_per_wavelength)
    prepared = _Prepared(wave, voxel_size_m, options)
    omega2 = (2 * np.pi * frequency_hz) ** 2
    u, lap = prepared.field, prepared.laplacian
    with np.errstate(invalid="ignore", divide="ignore"):
        g = -density_kg_m3 * omega2 * np.sum(np.conj(lap) * u, axis=0) / np.sum(np.abs(lap) ** 2, axis=0)
    return _finish(np.abs(g), np.angle(g), prepared.confidence, prepared.raw_amplitude, mask,
                   options["min_wave_snr"], density_kg_m3,
                   {"noise_sigma": prepared.noise_sigma, "compression": prepared.compression,
                    "smoothing_sigma_vox": prepared.sigma_vox, "dominant_wavelength_m": prepared.wavelength_m})


def mdev(waves, voxel_size_m, density_kg_m3=1000.0, mask=None, smoothing_sigma_vox=None, compression="none",
         laplacian="fd4", axes="3d", noise_sigma=None, min_wave_snr=None, highpass_sigma_vox=None,
         smoothing_per_wavelength=None):
    """MDEV inversion pooled over every component and frequency of ``waves`` {frequency_hz: wave}.

    |G*| = rho sum_f omega_f^2 sum_c |U| / sum_f sum_c |Lap U|
    phi  = arccos(-sum Re(Lap U conj U) / sum |Lap U| |U|)
    (Papazoglou et al. 2012). ``noise_sigma``: one value or {frequency_hz: value}. Options as
    :func:`helmholtz`. The confidence is the wave SNR combined over frequencies (root sum square).
    """
    if not hasattr(waves, "items") or not len(waves):
        raise ValueError("mdev: waves must be a non-empty mapping frequency_hz -> complex wave")
    derivatives.voxel_sizes(voxel_size_m)
    options = _options(DEFAULT_SMOOTHING_SIGMA_VOX if smoothing_sigma_vox is None else smoothing_sigma_vox,
                       compression, laplacian, axes, None,
                       DEFAULT_MIN_WAVE_SNR if min_wave_snr is None else min_wave_snr,
                       highpass_sigma_vox or DEFAULT_HIGHPASS_SIGMA_VOX, smoothing_per_wavelength)
    smoothing, wavelengths = {}, {}
    magnitude_num = magnitude_den = phase_num = phase_den = confidence2 = amplitude2 = 0.0
    shape, sigmas, method = None, {}, None
    for frequency_hz, wave in sorted(waves.items()):
        wave = _check_wave(wave, f"mdev ({frequency_hz:g} Hz)")
        if not float(frequency_hz) > 0:
            raise ValueError(f"mdev: frequency {frequency_hz} must be positive (Hz)")
        if shape is None:
            shape = wave.shape[1:]
        elif wave.shape[1:] != shape:
            raise ValueError(f"mdev: the {frequency_hz:g} Hz wave grid {wave.shape[1:]} differs from {shape}")
        options["noise_sigma"] = noise_sigma.get(frequency_hz) if hasattr(noise_sigma, "get") else noise_sigma
        prepared = _Prepared(wave, voxel_size_m, options)
        omega2 = (2 * np.pi * float(frequency_hz)) ** 2
        u, lap = prepared.field, prepared.laplacian
        abs_u, abs_lap = np.abs(u), np.abs(lap)
        magnitude_num = magnitude_num + density_kg_m3 * omega2 * abs_u.sum(axis=0)
        magnitude_den = magnitude_den + abs_lap.sum(axis=0)
        phase_num = phase_num - np.real(lap * np.conj(u)).sum(axis=0)
        phase_den = phase_den + (abs_lap * abs_u).sum(axis=0)
        confidence2 = confidence2 + np.nan_to_num(prepared.confidence) ** 2
        amplitude2 = amplitude2 + prepared.raw_amplitude ** 2
        sigmas[float(frequency_hz)] = prepared.noise_sigma
        smoothing[float(frequency_hz)], wavelengths[float(frequency_hz)] = prepared.sigma_vox, prepared.wavelength_m
        method = prepared.compression
    mask = _check_mask(mask, shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_g = magnitude_num / magnitude_den
        phi = np.arccos(np.clip(phase_num / phase_den, -1.0, 1.0))
    return _finish(abs_g, phi, np.sqrt(confidence2), np.sqrt(amplitude2 / len(waves)), mask,
                   options["min_wave_snr"], density_kg_m3, {"noise_sigma": sigmas, "compression": method,
                                                           "smoothing_sigma_vox": smoothing,
                                                           "dominant_wavelength_m": wavelengths})
