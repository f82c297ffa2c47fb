"""k-MDEV: shear-wave speed from the phase gradients of directionally filtered waves.

Tzschatzsch et al., Med Image Anal 2016, doi:10.1016/j.media.2016.01.001 ("tomoelastography"):
each component and frequency is band-pass filtered, split into waves travelling along a set of
directions, and the local wavenumber of each part is the magnitude of its phase gradient; speeds
omega / k are averaged with amplitude weights (weights |U_filtered|^weight_power; stronger
waves carry more reliable phase), giving the phase velocity without second derivatives, so
the map is less noise-sensitive and less blurred than Laplacian-based inversions.

The phase gradient along an axis is the mean of the forward and backward neighbour products,
[arg(U(x+h) conj U(x)) + arg(U(x) conj U(x-h))] / 2h, exact for a plane wave with |k h| < pi,
i.e. down to 2 voxels per wavelength (the central product arg(U(x+h) conj U(x-h)) / 2h wraps
at |k h| = pi/2, 4 voxels per wavelength, and then reads the wave far too fast on coarse grids).
"""
import numpy as np

from TMEMonitorLib.fitting import status as fit_status

from . import derivatives, directional, noise
from .compression import remove_compression

DEFAULT_SPEED_RANGE_M_S = (0.3, 15.0)      # band-pass limits as wave speeds at each frequency
DIRECTIONAL_POWER = 2


def _phase_gradient_vector(field, voxel_size_m, axes):
    """{axis: d arg(field) / dx_axis} (rad/m) of a complex (slices, rows, cols) field."""
    gradient = {}
    for a in axes:
        forward = np.angle(np.roll(field, -1, axis=a) * np.conj(field))      # phase step x -> x+h
        backward = np.roll(forward, 1, axis=a)                                # phase step x-h -> x
        k = (forward + backward) / (2 * voxel_size_m[a])
        edge = [slice(None)] * 3
        edge[a] = [0, -1]
        k[tuple(edge)] = np.nan           # no wrap-around neighbours at the borders
        gradient[a] = k
    return gradient


def _decay_rate(field, voxel_size_m, phase_gradient):
    """The amplitude decay rate k'' (1/m) along the wave's own propagation direction.

    For U = exp(-(i k' + k'') n.x), grad arg U = -k' n and grad ln|U| = -k'' n, so
    k'' = grad ln|U| . grad arg U / |grad arg U| whatever the filter direction (a projection on the
    filter direction instead would shrink k'' by the cosine between the two)."""
    log_amplitude = np.log(np.maximum(np.abs(field), 1e-300))
    dot = norm2 = 0.0
    for a, k in phase_gradient.items():
        dot = dot + np.gradient(log_amplitude, voxel_size_m[a], axis=a) * k
        norm2 = norm2 + k ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return dot / np.sqrt(norm2)


def kmdev(waves, voxel_size_m, density_kg_m3=1000.0, mask=None, axes="2d", directions=None,
          speed_range_m_s=DEFAULT_SPEED_RANGE_M_S, weight_power=2.0, compression="none",
          noise_sigma=None, min_wave_snr=3.0, highpass_sigma_vox=5.0):
    """Shear-wave speed (m/s) pooled over components, directions and frequencies.

    ``waves``: {frequency_hz: complex wave (components, slices, rows, cols)} (a single array is
    not enough: the frequency must be given). ``axes``: '2d' (in-plane filters and gradients, as
    published) or '3d'. Returns "wave_speed" (m/s), "rho_c2" (Pa: rho c^2, the elastic modulus that
    speed implies; not |G*| of a viscous medium), "penetration_rate" (m/s: omega / k'', the
    attenuation; NaN where no decay is measured), "amplitude" (m), "confidence" (wave SNR) and
    "status" (TMEMonitorLib.fitting.status codes).
    """
    if not hasattr(waves, "items") or not len(waves):
        raise ValueError("kmdev: waves must be a non-empty mapping frequency_hz -> complex wave")
    sizes = derivatives.voxel_sizes(voxel_size_m)
    low_speed, high_speed = speed_range_m_s
    if not 0 < low_speed < high_speed:
        raise ValueError(f"kmdev: speed_range_m_s {speed_range_m_s} must be increasing positive speeds (m/s)")
    numerator = denominator = confidence2 = amplitude2 = 0.0
    decay_sum = 0.0                                   # sum of weight x k'' / omega (s/m)
    shape, sigmas = None, {}
    for frequency_hz, wave in sorted(waves.items()):
        wave = np.asarray(wave)
        wave = wave[np.newaxis] if wave.ndim == 3 else wave
        if wave.ndim != 4 or not np.iscomplexobj(wave):
            raise ValueError(f"kmdev: the {frequency_hz:g} Hz wave must be complex (components, slices, rows, cols)")
        shape = shape or wave.shape[1:]
        if wave.shape[1:] != shape:
            raise ValueError(f"kmdev: the {frequency_hz:g} Hz wave grid {wave.shape[1:]} differs from {shape}")
        use_axes = derivatives.active_axes(shape, axes) if axes == "3d" else (1, 2)
        dirs = directions if directions is not None else (
            directional.in_plane_directions() if axes == "2d" else directional.volume_directions())
        sigma = noise_sigma.get(frequency_hz) if hasattr(noise_sigma, "get") else noise_sigma
        sigma = noise.spatial_noise_sigma(wave) if sigma is None else float(sigma)
        sigmas[float(frequency_hz)] = sigma
        with np.errstate(invalid="ignore", divide="ignore"):
            confidence2 = confidence2 + np.nan_to_num(noise.wave_snr(wave, sigma)) ** 2
        amplitude2 = amplitude2 + noise.wave_amplitude(wave) ** 2
        field, _ = remove_compression(wave, sizes, compression, highpass_sigma_vox, use_axes)
        omega = 2 * np.pi * float(frequency_hz)
        # Zero padding keeps the periodic FFT from joining opposite borders.
        pad = [(0, 0)] * 4
        for a in use_axes:
            pad[1 + a] = (0, shape[a] // 2)
        field = np.pad(field, pad)
        k_grids = directional.wavevectors(field.shape[1:], sizes, use_axes)
        k_abs = np.sqrt(sum(k ** 2 for k in k_grids))
        band = directional.butterworth_bandpass(k_abs, omega / high_speed, omega / low_speed)
        spectra = np.fft.fftn(field, axes=[1 + a for a in use_axes])
        crop = (slice(None),) + tuple(slice(0, n) for n in shape)
        for direction in dirs:
            filt = band * directional.directional_filter(k_grids, direction, DIRECTIONAL_POWER)
            parts = np.fft.ifftn(spectra * filt, axes=[1 + a for a in use_axes])[crop]
            for part in parts:
                gradient = _phase_gradient_vector(part, sizes, use_axes)
                k_local = np.sqrt(sum(k ** 2 for k in gradient.values()))
                weight = np.abs(part) ** weight_power
                with np.errstate(invalid="ignore", divide="ignore"):
                    speed = omega / k_local
                good = np.isfinite(speed)
                numerator = numerator + np.where(good, weight * speed, 0.0)
                denominator = denominator + np.where(good, weight, 0.0)
                decay = _decay_rate(part, sizes, gradient) / omega
                decay_sum = decay_sum + np.where(good & np.isfinite(decay), weight * decay, 0.0)
    mask = np.ones(shape, bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != shape:
        raise ValueError(f"mask of shape {mask.shape} does not match the wave grid {shape}")
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = numerator / denominator
        # Penetration rate a = omega / k'' (m/s): how far the wave travels per cycle before it decays
        # by 1/e, times the frequency; k'' from the amplitude decay of each directionally filtered
        # wave along its direction, amplitude-weighted like the speed (Tzschatzsch et al. 2016;
        # Hirsch, Braun & Sack 2017). For G* = |G*| e^{i phi}: a = sqrt(|G*| / rho) / sin(phi / 2).
        penetration = denominator / decay_sum
    confidence = np.sqrt(confidence2)
    status = np.full(shape, fit_status.OK, dtype=fit_status.DTYPE)
    status[~np.isfinite(speed) | ~(speed > 0)] = fit_status.FAILED
    status[~(confidence >= min_wave_snr)] = fit_status.NO_SIGNAL
    status[~mask] = fit_status.MASKED
    speed = np.where(status == fit_status.OK, speed, np.nan)
    # No decay measured (a non-positive mean k'': an elastic or growing wave) leaves no rate, not infinity.
    penetration = np.where((status == fit_status.OK) & (penetration > 0), penetration, np.nan)
    return {"wave_speed": speed, "rho_c2": density_kg_m3 * speed ** 2, "penetration_rate": penetration,
            "amplitude": np.where(mask, np.sqrt(amplitude2 / len(waves)), np.nan),
            "confidence": np.where(mask, confidence, np.nan), "status": status, "noise_sigma": sigmas}
