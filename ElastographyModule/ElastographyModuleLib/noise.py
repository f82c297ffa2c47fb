"""Noise level and wave signal-to-noise ratio of complex first-harmonic wave fields.

Shear waves are band-limited (a wavelength of at least ~6 voxels in practice), so the corner of
k-space where every spatial frequency exceeds 0.6 of Nyquist holds noise only. A Hann window
on each axis keeps the field-of-view edges from leaking into that corner; its power loss is
divided out. This follows the usual spectral noise estimate of band-limited signals (e.g. the
high-frequency noise floor used in MRE SNR estimates; Donoho & Johnstone, Biometrika 1994,
doi:10.1093/biomet/81.3.425, for the idea of reading noise where the signal is absent).
"""
import numpy as np

CORNER = 0.6      # fraction of Nyquist above which (on every axis) only noise is expected


def spatial_noise_sigma(field):
    """Noise SD of the real (= imaginary) part of a complex (..., slices, rows, cols) field."""
    field = np.asarray(field)
    axes = [a for a in range(field.ndim - 3, field.ndim) if field.shape[a] >= 8]
    if not axes:
        return np.nan
    window, corner, gain = 1.0, True, 1.0
    for a in axes:
        n = field.shape[a]
        shape = [1] * field.ndim
        shape[a] = n
        taper = np.hanning(n + 2)[1:-1]
        window = window * taper.reshape(shape)
        gain *= float(np.sum(taper ** 2))
        frequency = np.abs(np.fft.fftfreq(n)).reshape(shape) * 2.0       # fraction of Nyquist
        corner = corner & (frequency > CORNER)
    spectrum = np.fft.fftn(field * window, axes=axes)
    corner = np.broadcast_to(corner, spectrum.shape)
    power = np.mean(np.abs(spectrum[corner]) ** 2)
    # E|F|^2 = (var_re + var_im) * sum(w^2) for white noise; real data: only half is "imag".
    parts = 2.0 if np.iscomplexobj(field) else 1.0
    return float(np.sqrt(power / (parts * gain)))


def wave_amplitude(wave):
    """Root-sum-square amplitude over components of a (components, ...) complex wave (m)."""
    return np.sqrt(np.sum(np.abs(wave) ** 2, axis=0))


def wave_snr(wave, noise_sigma):
    """Amplitude over the RMS amplitude that noise alone would give (sigma x sqrt(2 x components)):
    1 means the wave is at the noise level."""
    return wave_amplitude(wave) / (noise_sigma * np.sqrt(2.0 * wave.shape[0]))
