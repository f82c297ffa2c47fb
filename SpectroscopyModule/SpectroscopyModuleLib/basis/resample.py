"""Bring a basis set to the acquisition of the data (dwell, number of points, field).

- Simulated bases are regenerated exactly from their cached line lists.
- Other bases are resampled in the time domain: the FID is interpolated (band-limited
  oversampling by zero-filling the spectrum, then a cubic spline) at the data's sampling
  times, as if the continuous signal had been sampled there. If a basis spectrum has more
  than ``max_alias_fraction`` of its power outside the data's bandwidth (a line that
  would fold back), an InputError is raised instead. The data's acquisition must not last longer than the basis FID unless the basis
  FID has decayed (then it is zero-filled); otherwise an InputError is raised.
- A different field strength is accepted only within ``field_rtol`` (default 1 %): the
  time axis is scaled by MHz_data / MHz_basis so that every line keeps its ppm position
  (coupling patterns change with field, so a basis for another field is refused).
"""
import numpy as np

from TMEMonitorLib.errors import InputError


FIELD_RTOL = 0.01
_OVERSAMPLE = 8


def _same(a, b, rtol=1e-6):
    return abs(a - b) <= rtol * abs(b)


def needs_resampling(basis, dwell_s, n_points, spectrometer_mhz):
    return not (_same(basis.dwell_s, dwell_s) and basis.n_points == int(n_points)
                and _same(basis.spectrometer_mhz, spectrometer_mhz))


def _regenerate_simulated(basis, dwell_s, n_points, spectrometer_mhz):
    from .simulate import simulate_basis
    meta = basis.metadata
    return simulate_basis(spectrometer_mhz, basis.te_s, basis.sequence, basis.names, int(n_points),
                          dwell_s, te1_s=meta.get("te1_s"), tm_s=meta.get("tm_s"),
                          linewidth_hz=meta.get("linewidth_hz", 0.0))


def _alias_fraction(fid, dwell_in, band_hz):
    spec = np.abs(np.fft.fft(fid)) ** 2
    outside = np.abs(np.fft.fftfreq(fid.size, dwell_in)) > band_hz / 2
    return float(spec[outside].sum() / max(spec.sum(), 1e-300))


def _interpolate_fid(fid, dwell_in, times_out):
    n = fid.size
    spec = np.fft.fft(fid)
    # band-limited oversampling: zero-fill the (unshifted) spectrum in its middle
    big = np.zeros(n * _OVERSAMPLE, dtype=complex)
    half = n // 2
    big[:half] = spec[:half]
    big[-(n - half):] = spec[half:]
    fine = np.fft.ifft(big) * _OVERSAMPLE
    t_fine = np.arange(fine.size) * dwell_in / _OVERSAMPLE
    from scipy.interpolate import CubicSpline
    out = np.zeros(times_out.shape, dtype=complex)
    inside = times_out <= t_fine[-1]
    out[inside] = CubicSpline(t_fine, fine)(times_out[inside])
    return out


def resample_basis(basis, dwell_s, n_points, spectrometer_mhz=None, field_rtol=FIELD_RTOL,
                   decay_tolerance=0.02, max_alias_fraction=0.05):
    """A :class:`Basis` sampled at ``dwell_s`` x ``n_points`` (and at ``spectrometer_mhz``)."""
    spectrometer_mhz = basis.spectrometer_mhz if spectrometer_mhz is None else float(spectrometer_mhz)
    if not np.isfinite(dwell_s) or dwell_s <= 0 or int(n_points) < 16:
        raise InputError(f"target dwell {dwell_s} s / {n_points} points is not a valid acquisition")
    if abs(spectrometer_mhz - basis.spectrometer_mhz) > field_rtol * basis.spectrometer_mhz:
        raise InputError(
            f"basis was made for {basis.spectrometer_mhz:.3f} MHz but the data are at "
            f"{spectrometer_mhz:.3f} MHz (more than {field_rtol * 100:.1f} % apart): J-coupling "
            "patterns differ between fields; use or simulate a basis for this field")
    if not needs_resampling(basis, dwell_s, n_points, spectrometer_mhz):
        return basis
    if basis.metadata.get("simulated") and basis.te_s is not None and basis.sequence:
        return _regenerate_simulated(basis, dwell_s, n_points, spectrometer_mhz)
    times = np.arange(int(n_points)) * dwell_s * (spectrometer_mhz / basis.spectrometer_mhz)
    span = basis.n_points * basis.dwell_s
    if times[-1] > span:
        tail = max(1, basis.n_points // 20)
        for name, fid in basis.items():
            peak = np.abs(fid).max()
            if peak > 0 and np.abs(fid[-tail:]).max() > decay_tolerance * peak:
                raise InputError(
                    f"data acquisition ({times[-1]:.3f} s) is longer than the basis FID of "
                    f"'{name}' ({span:.3f} s), which has not decayed; use a longer basis or "
                    "truncate the data")
    band = 1.0 / dwell_s * basis.spectrometer_mhz / spectrometer_mhz
    if band < 1.0 / basis.dwell_s:
        for name, fid in basis.items():
            fraction = _alias_fraction(fid, basis.dwell_s, band)
            if fraction > max_alias_fraction:
                raise InputError(f"basis spectrum '{name}' has {fraction:.0%} of its power outside "
                                 f"the data bandwidth ({1 / dwell_s:.0f} Hz) and would alias")
    fids = {name: _interpolate_fid(fid, basis.dwell_s, times) for name, fid in basis.items()}
    metadata = dict(basis.metadata, resampled_from={"dwell_s": basis.dwell_s,
                                                     "n_points": basis.n_points,
                                                     "spectrometer_mhz": basis.spectrometer_mhz})
    return basis.copy_with(fids, dwell_s=float(dwell_s), spectrometer_mhz=spectrometer_mhz,
                           metadata=metadata)


def match_basis(basis, mrs_like, field_rtol=FIELD_RTOL):
    """Resample ``basis`` to the acquisition of an MRSData-like object (fid, dwell_s, spectrometer_mhz)."""
    n_points = np.shape(mrs_like.fid)[-1]
    return resample_basis(basis, mrs_like.dwell_s, n_points, mrs_like.spectrometer_mhz, field_rtol)
