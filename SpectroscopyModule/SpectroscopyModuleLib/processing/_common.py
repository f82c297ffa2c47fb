"""Shared helpers of the processing steps: input checks, axes, history steps, output container.

Every step takes an MRSData-like object (``fid`` with the spectral axis last, ``dwell_s``,
``spectrometer_mhz``; optionally ``dim_tags``, ``history``, ``ppm_reference``, ...) and returns a
new :class:`~SpectroscopyModuleLib.io.mrs_data.MRSData` with one NIfTI-MRS ``ProcessingApplied``
style step appended to ``history``. Nothing here changes the input object.
"""
import copy
import datetime

import numpy as np

from TMEMonitorLib.errors import InputError

PROGRAM = "TME Monitor"
COIL_TAG = "DIM_COIL"
# NIfTI-MRS tags of repeated transients (Clarke WT et al., MRM 2022, doi:10.1002/mrm.29418).
TRANSIENT_TAGS = ("DIM_DYN", "DIM_MEAS", "DIM_AVG")
PROTON_REFERENCE_PPM = 4.65


def tags_of(mrs):
    """The dimension tags of ``mrs`` (a list; empty when it has none)."""
    return list(getattr(mrs, "dim_tags", None) or [])


def checked_fid(mrs, what):
    """The complex FID array of ``mrs`` after basic checks (shape, finiteness, sampling)."""
    if mrs is None or not hasattr(mrs, "fid"):
        raise InputError(f"{what}: input must be spectroscopy data with a 'fid' (got {type(mrs).__name__})")
    fid = np.asarray(mrs.fid)
    if fid.ndim < 1 or fid.shape[-1] < 2:
        raise InputError(f"{what}: fid shape {fid.shape} has no spectral (time) axis")
    if fid.size == 0:
        raise InputError(f"{what}: the fid is empty (shape {fid.shape})")
    if not np.iscomplexobj(fid):
        fid = fid.astype(np.complex128)
    if not np.all(np.isfinite(fid)):
        raise InputError(f"{what}: the fid holds NaN or infinite values")
    tags = tags_of(mrs)
    if fid.ndim - 1 < len(tags):
        raise InputError(f"{what}: fid shape {fid.shape} has fewer axes than its dimension tags {tags}")
    dwell = getattr(mrs, "dwell_s", None)
    if dwell is None or not np.isfinite(dwell) or dwell <= 0:
        raise InputError(f"{what}: the dwell time (dwell_s) is missing or not positive (got {dwell})")
    mhz = getattr(mrs, "spectrometer_mhz", None)
    if mhz is None or not np.isfinite(mhz) or mhz <= 0:
        raise InputError(f"{what}: the spectrometer frequency (spectrometer_mhz) is missing or not positive "
                         f"(got {mhz})")
    return fid


def tag_axis(mrs, tag, ndim):
    """Array axis of ``tag`` in an array of ``ndim`` axes laid out as ``mrs.fid``, or None."""
    tags = tags_of(mrs)
    if tag not in tags:
        return None
    return ndim - 1 - len(tags) + tags.index(tag)


def n_spatial(mrs, ndim):
    return ndim - 1 - len(tags_of(mrs))


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


def checked_number(value, name, what, minimum, inclusive=True):
    """``value`` as a finite float at or above (``inclusive``) or above ``minimum``, or InputError."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: {name} must be a number (got {value!r})") from None
    if not np.isfinite(number) or number < minimum or (not inclusive and number == minimum):
        raise InputError(f"{what}: {name} must be {'>=' if inclusive else '>'} {minimum:g} (got {value})")
    return number


def make_step(method, details, /, **parameters):
    """A NIfTI-MRS ProcessingApplied entry; numeric results are kept under 'Parameters'."""
    step = {"Time": datetime.datetime.now().isoformat(timespec="seconds"), "Program": PROGRAM,
            "Method": method, "Details": details}
    if parameters:
        step["Parameters"] = {k: _plain(v) for k, v in parameters.items()}
    return step


def _plain(value):
    """JSON-friendly copy: arrays to (nested) lists, numpy scalars to Python numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def summary(values, unit, digits=3):
    """'x unit' for one value, else 'mean m, SD s, range a..b unit' (for Details strings)."""
    values = np.asarray(values, float).ravel()
    if values.size == 1:
        return f"{values[0]:.{digits}f} {unit}"
    return (f"mean {values.mean():.{digits}f}, SD {values.std():.{digits}f}, range {values.min():.{digits}f}.."
            f"{values.max():.{digits}f} {unit} over {values.size}")


def result(mrs, fid, step, dim_tags=None, **changes):
    """A new MRSData holding ``fid`` with ``step`` appended to the history of ``mrs``."""
    from ..io.mrs_data import MRSData
    fid = np.asarray(fid)
    if isinstance(mrs, MRSData):
        return mrs.with_fid(fid, step=step, dim_tags=dim_tags, **changes)
    fields = {"fid": fid, "dwell_s": float(mrs.dwell_s), "spectrometer_mhz": float(mrs.spectrometer_mhz),
              "nucleus": getattr(mrs, "nucleus", None) or "1H", "te_s": getattr(mrs, "te_s", None),
              "tr_s": getattr(mrs, "tr_s", None), "affine": getattr(mrs, "affine", None),
              "metadata": copy.deepcopy(dict(getattr(mrs, "metadata", None) or {})),
              "dim_tags": list(tags_of(mrs) if dim_tags is None else dim_tags),
              "history": list(getattr(mrs, "history", None) or []),
              "ppm_reference": getattr(mrs, "ppm_reference", None)}
    fields.update(changes)
    out = MRSData(**fields)
    out.history.append(step)
    return out


def transient_layout(mrs, fid, what):
    """Move the transient axes of ``fid`` next to the time axis and merge them.

    Returns (array (..., n_transients, n_points), transient axes, shape of the other axes in
    the original order without the transient axes, tags kept)."""
    tags = tags_of(mrs)
    axes = [tag_axis(mrs, t, fid.ndim) for t in tags if t in TRANSIENT_TAGS]
    if not axes:
        raise InputError(f"{what}: the data have no transient dimension ({', '.join(TRANSIENT_TAGS)}); "
                         f"dimension tags are {tags or 'none'}")
    axes = sorted(axes)
    moved = np.moveaxis(fid, axes, list(range(fid.ndim - 1 - len(axes), fid.ndim - 1)))
    rest = moved.shape[:fid.ndim - 1 - len(axes)]
    n_transients = int(np.prod([fid.shape[a] for a in axes]))
    merged = moved.reshape(rest + (n_transients, fid.shape[-1]))
    kept_tags = [t for t in tags if t not in TRANSIENT_TAGS]
    return merged, axes, rest, kept_tags


def restore_transients(merged, axes, ndim_original, original_shape):
    """Inverse of :func:`transient_layout` for arrays that kept every transient."""
    rest = merged.shape[:-2]
    shape = rest + tuple(original_shape[a] for a in axes) + (merged.shape[-1],)
    unmerged = merged.reshape(shape)
    return np.moveaxis(unmerged, list(range(ndim_original - 1 - len(axes), ndim_original - 1)), axes)
