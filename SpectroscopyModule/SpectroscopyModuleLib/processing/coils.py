"""Coil combination: weighted sum over DIM_COIL.

Default ("first_point"): each coil is phased so that the first point of its reference FID (the
water reference when given, else the transient-averaged data) is real, and weighted by that
point's amplitude over the coil's noise variance (from the FID tail) -- the signal-to-noise
optimal weighting when coils have independent noise (Hall EL et al., NeuroImage 2014;86:35,
doi:10.1016/j.neuroimage.2013.04.077). "svd": the coil sensitivities are the first singular
vector of the noise-whitened coils x time matrix of the first ``svd_window_s`` of the reference
(Bydder M et al., MRI 2008;26:847, doi:10.1016/j.mri.2008.01.050).

The combined FID is scaled as a weighted mean of the coils (the sum of the weights' magnitudes is
one), so its amplitude stays comparable to that of one coil.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .data_axes import COIL_TAG, TRANSIENT_TAGS, checked_fid, n_spatial, tag_axis, tags_of
from .spectral_axes import tail_noise_variance
from .step_record import make_step, result

METHODS = ("first_point", "svd")


def _coils_last(mrs, fid, what):
    """fid with its coil axis moved to -2, and the tags of the other extra axes in order."""
    axis = tag_axis(mrs, COIL_TAG, fid.ndim)
    if axis is None:
        raise InputError(f"{what}: the data have no coil dimension ({COIL_TAG}); dimension tags are "
                         f"{tags_of(mrs) or 'none'}")
    others = [t for t in tags_of(mrs) if t != COIL_TAG]
    return np.moveaxis(fid, axis, -2), others


def _positive_variance(variance):
    variance = np.array(variance, dtype=float)
    good = np.isfinite(variance) & (variance > 0)
    fill = float(np.median(variance[good])) if good.any() else 1.0
    variance[~good] = fill
    return variance


def _mean_over_transients(x, tags, n_spatial_axes):
    """Average ``x`` (coil axis at -2) over its transient axes, keeping them as size 1."""
    axes = tuple(n_spatial_axes + i for i, t in enumerate(tags) if t in TRANSIENT_TAGS)
    return x.mean(axis=axes, keepdims=True) if axes else x


def _reference_for(mrs, x, tags, water_reference, what):
    """Reference FIDs (coil axis -2) broadcastable against ``x`` (transient axes size 1)."""
    spatial = n_spatial(mrs, x.ndim)
    if water_reference is None:
        return _mean_over_transients(x, tags, spatial), "the transient-averaged data"
    wfid = checked_fid(water_reference, f"{what} (water reference)")
    w, wtags = _coils_last(water_reference, wfid, f"{what} (water reference)")
    if w.shape[-2] != x.shape[-2]:
        raise InputError(f"{what}: the water reference has {w.shape[-2]} coils but the data have {x.shape[-2]}")
    w_spatial = n_spatial(water_reference, wfid.ndim)
    w = _mean_over_transients(w, wtags, w_spatial)
    # Spatial axes: the same grid, or a single voxel applied everywhere.
    w_grid = w.shape[:w_spatial]
    d_grid = x.shape[:spatial]
    if int(np.prod(w_grid)) == 1:
        grid = (1,) * spatial
    elif tuple(s for s in w_grid if s != 1) == tuple(s for s in d_grid if s != 1):
        grid = d_grid
    else:
        raise InputError(f"{what}: the water reference grid {w_grid} differs from the data grid {d_grid}")
    extra = []
    for tag, size in zip(tags, x.shape[spatial:-2]):
        if tag in wtags and tag not in TRANSIENT_TAGS:
            wsize = w.shape[w_spatial + wtags.index(tag)]
            if wsize not in (1, size):
                raise InputError(f"{what}: the water reference has {wsize} entries along {tag}, the data {size}")
            extra.append(wsize)
        else:
            extra.append(1)
    for tag in wtags:
        if tag not in tags and tag not in TRANSIENT_TAGS and w.shape[w_spatial + wtags.index(tag)] > 1:
            raise InputError(f"{what}: the water reference has a dimension {tag} that the data lack")
    kept = [w.shape[w_spatial + i] for i, t in enumerate(wtags) if t in tags and t not in TRANSIENT_TAGS]
    if int(np.prod(kept or [1])) != int(np.prod(extra or [1])):
        raise InputError(f"{what}: cannot match the water reference dimensions {wtags} to the data {tags}")
    ref = w.reshape(tuple(grid) + tuple(extra) + w.shape[-2:])
    return ref, "the water reference"


def coil_weights(x, reference, noise_variance, method="first_point", svd_points=None):
    """Complex weights (..., coils), sum of magnitudes 1, for coil axis -2 of ``x``."""
    s = reference[..., 0]
    if method == "first_point":
        w = np.conj(s) / noise_variance
    else:
        m = reference.shape[-1] if svd_points is None else min(int(svd_points), reference.shape[-1])
        sigma = np.sqrt(noise_variance)[..., None]
        whitened = reference[..., :m] / sigma
        covariance = whitened @ np.conj(np.swapaxes(whitened, -1, -2))
        _, vectors = np.linalg.eigh(covariance)
        u = vectors[..., -1]                                # dominant coil sensitivity pattern
        w = np.conj(u) / np.sqrt(noise_variance)
        rotation = np.sum(w * s, axis=-1, keepdims=True)    # combined first point real and positive
        w = w * np.exp(-1j * np.angle(rotation))
    total = np.sum(np.abs(w), axis=-1, keepdims=True)
    equal = np.full(w.shape, 1.0 / w.shape[-1], dtype=complex)
    ok = np.isfinite(total) & (total > 0)
    return np.where(ok, w / np.where(ok, total, 1.0), equal)


def coil_combine(mrs, water_reference=None, method="first_point", noise_fraction=0.25, svd_window_s=0.1):
    """Combine the coils (DIM_COIL) of ``mrs`` into one FID per voxel/transient.

    water_reference: unsuppressed water data with the same coils (weights from its first point),
    else the data averaged over transients give the weights. method: "first_point" (Hall 2014)
    or "svd" (Bydder 2008). noise_fraction: last fraction of each FID used for the noise variance."""
    what = "coil combination"
    if method not in METHODS:
        raise InputError(f"{what}: method '{method}' unknown; choose from {', '.join(METHODS)}")
    if not 0 < float(noise_fraction) < 1:
        raise InputError(f"{what}: noise_fraction must be between 0 and 1 (got {noise_fraction})")
    fid = checked_fid(mrs, what)
    x, tags = _coils_last(mrs, fid, what)
    reference, source = _reference_for(mrs, x, tags, water_reference, what)
    spatial = n_spatial(mrs, fid.ndim)
    variance = tail_noise_variance(x, noise_fraction)                           # (..., coils)
    transient_axes = tuple(spatial + i for i, t in enumerate(tags) if t in TRANSIENT_TAGS)
    if transient_axes:
        variance = variance.mean(axis=transient_axes, keepdims=True)
    variance = _positive_variance(variance)
    svd_points = max(int(round(svd_window_s / float(mrs.dwell_s))), 4)
    weights = coil_weights(x, reference, variance, method, svd_points)
    combined = np.sum(weights[..., None] * x, axis=-2)
    details = (f"{x.shape[-2]} coils; weights from the first FID point of {source}: "
               + ("phased to 0 and scaled by amplitude / noise variance (Hall et al. 2014)" if method == "first_point"
                  else "first singular vector of the noise-whitened coil signals (Bydder et al. 2008)")
               + f"; noise from the last {noise_fraction:.0%} of each FID")
    parameters = {"n_coils": int(x.shape[-2]), "method": method}
    if weights.size <= 512:
        parameters["weights_abs"] = np.round(np.abs(weights), 6)
        parameters["weights_phase_deg"] = np.round(np.degrees(np.angle(weights)), 3)
    step = make_step("RF coil combination", details, **parameters)
    return result(mrs, combined, step, dim_tags=tags)


