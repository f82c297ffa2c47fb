"""The axes of an MRSData's FID (NIfTI-MRS order, spectral axis last): its dimension tags,
where a tagged axis sits, the transient axes merged and restored, and the checked FID array."""
import numpy as np

from TMEMonitorLib.errors import InputError

COIL_TAG = "DIM_COIL"
# NIfTI-MRS tags of repeated transients (Clarke WT et al., MRM 2022, doi:10.1002/mrm.29418).
TRANSIENT_TAGS = ("DIM_DYN", "DIM_MEAS", "DIM_AVG")


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
