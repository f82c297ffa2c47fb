"""Time, frequency and ppm axes of a spectrum, the FFT pair in the display convention, ppm
windows and a noise estimate from the FID tail."""
import numpy as np

from TMEMonitorLib.errors import InputError

PROTON_REFERENCE_PPM = 4.65


def ppm_reference(mrs):
    value = getattr(mrs, "ppm_reference", None)
    if value is None:
        nucleus = str(getattr(mrs, "nucleus", None) or "1H")
        value = PROTON_REFERENCE_PPM if nucleus.upper() == "1H" else 0.0
    return float(value)


def time_axis(n, dwell_s):
    return np.arange(n) * float(dwell_s)


def frequency_axis(n, dwell_s):
    """Hz, ascending, matching ``spectrum``."""
    return np.fft.fftshift(np.fft.fftfreq(n, float(dwell_s)))


def ppm_axis(mrs, n):
    return ppm_reference(mrs) - frequency_axis(n, mrs.dwell_s) / float(mrs.spectrometer_mhz)


def spectrum(fid, n=None):
    return np.fft.fftshift(np.fft.fft(fid, n=n, axis=-1), axes=-1)


def inverse_spectrum(spec):
    return np.fft.ifft(np.fft.ifftshift(spec, axes=-1), axis=-1)


def ppm_to_hz(mrs, ppm):
    """Frequency (Hz, as in ``frequency_axis``) of a chemical shift."""
    return (ppm_reference(mrs) - np.asarray(ppm, float)) * float(mrs.spectrometer_mhz)


def ppm_window(mrs, n, ppm_range, what):
    """Boolean mask over the spectral points of ``ppm_range`` (either order)."""
    try:
        low, high = sorted(float(v) for v in ppm_range)
    except (TypeError, ValueError):
        raise InputError(f"{what}: ppm_range must be two numbers (got {ppm_range!r})") from None
    ppm = ppm_axis(mrs, n)
    mask = (ppm >= low) & (ppm <= high)
    if mask.sum() < 3:
        raise InputError(f"{what}: ppm_range {low:g}-{high:g} ppm holds fewer than 3 spectral points "
                         f"(the spectrum covers {ppm.min():.2f}-{ppm.max():.2f} ppm)")
    return mask


def tail_noise_variance(fid, fraction=0.25):
    """Complex noise variance per FID from the last ``fraction`` of its points (mean removed)."""
    n = fid.shape[-1]
    m = max(int(round(n * fraction)), 2)
    tail = fid[..., n - m:]
    tail = tail - tail.mean(axis=-1, keepdims=True)
    return np.mean(np.abs(tail) ** 2, axis=-1)
