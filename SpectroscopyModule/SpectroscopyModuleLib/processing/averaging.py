"""Averaging of transients and rejection of outlying transients.

Outliers: each transient's spectrum over ``ppm_range`` is compared with the median spectrum of
its group (voxel, edit, ...); the distance is turned into a robust z-score with the median and
the median absolute deviation (MAD x 1.4826) of the distances, and transients scoring above
``threshold`` are dropped. In an MRSI grid (or with other extra dimensions) the score of a
transient is the median of its scores over the groups, so the same transients are dropped
everywhere (motion or a spike spoils a whole transient) and the array stays rectangular.
Several transient dimensions are merged into the first one.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .data_axes import TRANSIENT_TAGS, checked_fid, tags_of, transient_layout
from .spectral_axes import ppm_window, spectrum
from .step_record import make_step, result

MAD_TO_SD = 1.4826


def outlier_scores(mrs, ppm_range=(0.2, 4.2)):
    """Robust z-score of every transient (merged transient axis), shape (n_transients,)."""
    what = "outlier rejection"
    fid = checked_fid(mrs, what)
    batch, _, _, _ = transient_layout(mrs, fid, what)
    mask = ppm_window(mrs, fid.shape[-1], ppm_range, what)
    spec = spectrum(batch)[..., mask]
    median = np.median(spec.real, axis=-2, keepdims=True) + 1j * np.median(spec.imag, axis=-2, keepdims=True)
    distance = np.sqrt(np.sum(np.abs(spec - median) ** 2, axis=-1))                  # (..., T)
    centre = np.median(distance, axis=-1, keepdims=True)
    spread = MAD_TO_SD * np.median(np.abs(distance - centre), axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(spread > 0, (distance - centre) / np.where(spread > 0, spread, 1.0), 0.0)
    return np.median(z.reshape(-1, z.shape[-1]), axis=0)


def reject_outliers(mrs, threshold=3.0, ppm_range=(0.2, 4.2)):
    """Drop transients whose spectral distance from the median exceeds ``threshold`` robust SDs."""
    what = "outlier rejection"
    if not np.isfinite(threshold) or threshold <= 0:
        raise InputError(f"{what}: threshold must be a positive number of robust SDs (got {threshold})")
    fid = checked_fid(mrs, what)
    batch, axes, rest, kept_tags = transient_layout(mrs, fid, what)
    scores = outlier_scores(mrs, ppm_range)
    keep = scores <= threshold
    if not keep.any():
        keep[np.argmin(scores)] = True
    dropped = np.flatnonzero(~keep)
    kept = batch[..., keep, :]
    # One merged transient axis, under the first transient tag, where the first transient axis was.
    tags = tags_of(mrs)
    first = [t for t in tags if t in TRANSIENT_TAGS][0]
    new_tags = [t for t in tags if t not in TRANSIENT_TAGS or t == first]
    position = new_tags.index(first)
    n_sp = fid.ndim - 1 - len(tags)
    out = np.moveaxis(kept, -2, n_sp + position)
    details = (f"{dropped.size} of {keep.size} transients dropped (robust z-score of the spectral distance from "
               f"the median over {min(ppm_range):g}-{max(ppm_range):g} ppm above {threshold:g})")
    step = make_step("Outlier removal", details, n_dropped=int(dropped.size), dropped_transients=dropped,
                     threshold=float(threshold))
    return result(mrs, out, step, dim_tags=new_tags)


def average(mrs, reject=False, threshold=3.0):
    """Mean over the transient dimensions (DIM_DYN / DIM_MEAS / DIM_AVG), which are removed.

    reject: first drop outlying transients (:func:`reject_outliers` with ``threshold``)."""
    what = "averaging"
    fid = checked_fid(mrs, what)
    if reject:
        mrs = reject_outliers(mrs, threshold)
        fid = np.asarray(mrs.fid)
    batch, _, rest, kept_tags = transient_layout(mrs, fid, what)
    mean = batch.mean(axis=-2)
    step = make_step("Signal averaging", f"mean of {batch.shape[-2]} transients "
                     f"({', '.join(t for t in tags_of(mrs) if t in TRANSIENT_TAGS)})",
                     n_transients=int(batch.shape[-2]))
    return result(mrs, mean, step, dim_tags=kept_tags)


