"""Frequency and phase alignment of transients by spectral registration in the time domain.

Each transient x(t) is matched to a reference r(t) (the median transient by default) by the
frequency shift f (Hz) and phase p (rad) minimising sum_t |x(t) exp(i(2 pi f t + p)) - r(t)|^2
over the first ``window_s`` of the FID, after both are band-limited to ``ppm_range`` (Near J et
al., MRM 2015;73:44, doi:10.1002/mrm.25094). For a given f the best phase is closed-form, so the
fit reduces to maximising |g(f)| = |sum_t conj(r) x exp(2 pi i f t)|: a zero-padded FFT finds it
to a fraction of a Hz and vectorised Newton steps on |g|^2 refine it. The reference is then
rebuilt from the aligned transients and the registration repeated (``iterations``).
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .data_axes import checked_fid, restore_transients, transient_layout
from .spectral_axes import inverse_spectrum, ppm_window, spectrum
from .step_record import make_step, result, summary

REFERENCES = ("median", "mean", "first")


def _band_limited(mrs, fid, ppm_range, what):
    mask = ppm_window(mrs, fid.shape[-1], ppm_range, what)
    return inverse_spectrum(spectrum(fid) * mask)


def _reference(batch, reference, what):
    """Reference FID per group, shape (..., 1, n), from the transients (..., T, n)."""
    if reference is None or (isinstance(reference, str) and reference == "median"):
        return np.median(batch.real, axis=-2, keepdims=True) + 1j * np.median(batch.imag, axis=-2, keepdims=True)
    if isinstance(reference, str):
        if reference == "mean":
            return batch.mean(axis=-2, keepdims=True)
        if reference == "first":
            return batch[..., :1, :]
        raise InputError(f"{what}: reference '{reference}' unknown; choose from {', '.join(REFERENCES)}, a "
                         "transient index or a reference FID")
    if isinstance(reference, (int, np.integer)):
        if not -batch.shape[-2] <= reference < batch.shape[-2]:
            raise InputError(f"{what}: reference transient {reference} is outside 0..{batch.shape[-2] - 1}")
        return batch[..., reference:reference + 1, :] if reference != -1 else batch[..., -1:, :]
    return None


def register(x, r, t, max_shift_hz, n_newton=6):
    """Shift (Hz) and phase (rad) taking each x (..., m) onto r (broadcastable): least squares."""
    z = np.conj(r) * x                                       # g(f) = sum z exp(2 pi i f t)
    dt = t[1] - t[0]
    m = x.shape[-1]
    n_fft = 1 << int(np.ceil(np.log2(max(8 * m, 256))))
    grid = np.fft.fftfreq(n_fft, dt)                         # exp(-2 pi i f t) sign: use ifft
    g = np.fft.ifft(z, n=n_fft, axis=-1) * n_fft             # sum z exp(+2 pi i k j / N)
    power = np.abs(g) ** 2
    if max_shift_hz is not None:
        power = np.where(np.abs(grid) <= max_shift_hz, power, -1.0)
    f = grid[np.argmax(power, axis=-1)]
    w = 2 * np.pi * t
    step = 1.0 / (n_fft * dt)
    for _ in range(n_newton):
        e = z * np.exp(1j * w * f[..., None])
        g0 = e.sum(axis=-1)
        g1 = (1j * w * e).sum(axis=-1)
        g2 = (-(w ** 2) * e).sum(axis=-1)
        d1 = 2 * np.real(np.conj(g0) * g1)
        d2 = 2 * (np.abs(g1) ** 2 + np.real(np.conj(g0) * g2))
        delta = np.where(d2 < 0, -d1 / np.where(d2 < 0, d2, -1.0), 0.0)
        f = f + np.clip(delta, -step, step)
    g0 = (z * np.exp(1j * w * f[..., None])).sum(axis=-1)
    return f, -np.angle(g0)


def align(mrs, ppm_range=(1.8, 4.2), reference=None, window_s=0.2, iterations=2, max_shift_hz=None):
    """Align the transients (DIM_DYN / DIM_MEAS / DIM_AVG) of ``mrs`` in frequency and phase.

    ppm_range: band used for the registration. reference: None/"median", "mean", "first", a
    transient index, or a reference FID (n_points, broadcast to every group). window_s: FID
    duration fitted. iterations: registrations, each against the mean of the previous result
    (the first against ``reference``). max_shift_hz: limit of the search (default: a quarter of
    the spectral width). Shifts and phases are the corrections applied, in Hz and degrees."""
    what = "frequency/phase alignment"
    fid = checked_fid(mrs, what)
    batch, axes, rest, _ = transient_layout(mrs, fid, what)
    n = fid.shape[-1]
    dwell = float(mrs.dwell_s)
    if window_s <= 0:
        raise InputError(f"{what}: window_s must be positive (got {window_s})")
    iterations = int(iterations)
    if iterations < 1:
        raise InputError(f"{what}: iterations must be at least 1 (got {iterations})")
    m = min(n, max(int(round(window_s / dwell)), 16))
    t = np.arange(m) * dwell
    filtered = _band_limited(mrs, batch, ppm_range, what)
    ref = _reference(filtered, reference, what)
    if ref is None:
        ref_fid = np.asarray(reference)
        if not np.iscomplexobj(ref_fid) or ref_fid.ndim != 1 or ref_fid.shape[-1] != n:
            raise InputError(f"{what}: a reference FID must be complex with {n} points (got shape {ref_fid.shape})")
        ref = _band_limited(mrs, ref_fid, ppm_range, what)
    max_shift = 0.25 / dwell if max_shift_hz is None else float(max_shift_hz)
    shifts = np.zeros(batch.shape[:-1])
    phases = np.zeros(batch.shape[:-1])
    full_t = np.arange(n) * dwell
    for iteration in range(iterations):
        current = filtered * np.exp(1j * (2 * np.pi * shifts[..., None] * full_t + phases[..., None]))
        if iteration > 0:
            ref = current.mean(axis=-2, keepdims=True)
        f, p = register(current[..., :m], ref[..., :m], t, max_shift)
        shifts = shifts + f
        phases = phases + p
    phases = np.angle(np.exp(1j * phases))
    aligned = batch * np.exp(1j * (2 * np.pi * shifts[..., None] * full_t + phases[..., None]))
    out = restore_transients(aligned, axes, fid.ndim, fid.shape)
    shifts_hz = shifts.reshape(rest + tuple(fid.shape[a] for a in axes))
    phases_deg = np.degrees(phases).reshape(shifts_hz.shape)
    details = (f"spectral registration (Near et al. 2015) of {batch.shape[-2]} transients over "
               f"{min(ppm_range):g}-{max(ppm_range):g} ppm and the first {m * dwell:.3f} s; shifts "
               f"{summary(shifts_hz, 'Hz')}; phases {summary(phases_deg, 'deg', 2)}")
    parameters = {}
    if shifts_hz.size <= 4096:
        parameters = {"shifts_hz": np.round(shifts_hz, 4), "phases_deg": np.round(phases_deg, 3)}
    step = make_step("Frequency and phase correction", details, **parameters)
    aligned_mrs = result(mrs, out, step)
    aligned_mrs.metadata["alignment"] = {"shifts_hz": shifts_hz, "phases_deg": phases_deg}
    return aligned_mrs


